"""llmctl's conformance kit, against the installed plugin calling the fake server."""

from __future__ import annotations

from typing import Any

import pytest
from llmctl.testing import ProviderConformance

from conftest import Backend


class TestOpenAICompatible(ProviderConformance):
    # No `handler = ...`: the kit calls the plugin through its installed entry point.
    model = "openai_compatible/echo"
    embedding_model = "openai_compatible/embed"
    image_model = "openai_compatible/image"
    deterministic = True  # an echo: the streamed text must equal the complete answer

    @pytest.fixture(autouse=True)
    def _fake_server(self, backend: Backend) -> None:
        self.url = backend.url

    @property
    def call_kwargs(self) -> dict[str, Any]:  # type: ignore[override]
        return {"api_base": self.url, "timeout": 5}

    def error_kwargs(self, status_code: int) -> dict[str, Any]:
        return {"fake_status": status_code}  # a key of the fake's own, sent in the body


class TestHostedVLLM(TestOpenAICompatible):
    model = "hosted_vllm/echo"
    embedding_model = "hosted_vllm/embed"
    image_model = "hosted_vllm/image"
