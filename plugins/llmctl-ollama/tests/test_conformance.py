"""The standard suite of llmctl's conformance kit, against the installed ``ollama`` plugin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from llmctl.testing import ProviderConformance
from llmctl.testserver import LoopbackServer


class TestOllama(ProviderConformance):
    # No `handler = ...`: the kit calls the plugin through its installed entry point.
    model = "ollama/llama3.2"
    embedding_model = "ollama/embeddinggemma"
    deterministic = True  # the fake answers one request one way: streams must match it

    @pytest.fixture(autouse=True)
    def _fake_server(self, server: LoopbackServer) -> None:
        self._url = server.url

    @property  # type: ignore[override]
    def call_kwargs(self) -> Mapping[str, Any]:
        return {"api_base": self._url, "timeout": 10}

    def error_kwargs(self, status_code: int) -> dict[str, Any]:
        # The fake answers every request under /status/<code> with that status.
        return {"api_base": f"{self._url}/status/{status_code}"}


class TestOllamaChatName(TestOllama):
    """LiteLLM's name for Ollama's chat API serves the same handler."""

    model = "ollama_chat/llama3.2"
    embedding_model = "ollama_chat/embeddinggemma"
