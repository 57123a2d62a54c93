"""LiteLLM-compatible import path (``litellm.llms.custom_llm``): re-exports only."""

from __future__ import annotations

from llmctl.handler import CustomLLM, CustomLLMError

__all__ = ["CustomLLM", "CustomLLMError"]
