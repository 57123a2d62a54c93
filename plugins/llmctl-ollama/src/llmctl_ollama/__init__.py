"""llmctl-ollama: Ollama's native API as an llmctl provider.

Installed, it serves the provider ``ollama`` (and LiteLLM's name for it, ``ollama_chat``)
through the entry point ``ollama = "llmctl_ollama:OllamaLLM"`` in the group
``litellm.providers``::

    import llmctl

    llmctl.completion(model="ollama/llama3.2", messages=[{"role": "user", "content": "Hi"}])

The server is ``api_base``, else ``$OLLAMA_API_BASE``, else ``http://localhost:11434``.
"""

from __future__ import annotations

from llmctl_ollama.handler import OllamaLLM

__all__ = ["OllamaLLM", "__version__"]

__version__ = "0.1.0"
