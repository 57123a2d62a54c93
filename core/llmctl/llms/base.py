"""LiteLLM-compatible import path (``litellm.llms.base``): re-exports only."""

from __future__ import annotations

from llmctl.handler import BaseLLM

__all__ = ["BaseLLM"]
