"""llmctl-openai-compatible: call any server that speaks OpenAI's HTTP API through llmctl.

Installed, it serves the providers ``openai_compatible`` and ``hosted_vllm`` (LiteLLM's name)
through entry points in the group ``litellm.providers``::

    import llmctl

    llmctl.completion(
        model="openai_compatible/meta-llama/Llama-3.1-8B-Instruct",
        messages=[{"role": "user", "content": "Hi"}],
        api_base="http://localhost:8000/v1",
    )
"""

from __future__ import annotations

from llmctl_openai_compatible.handler import OpenAICompatibleLLM

__all__ = ["OpenAICompatibleLLM", "__version__"]

__version__ = "0.1.0"
