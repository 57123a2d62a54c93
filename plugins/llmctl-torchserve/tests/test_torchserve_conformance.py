"""llmctl's conformance kit, against the installed ``torchserve`` plugin and the fake server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from llmctl.testing import ProviderConformance

from conftest import Backend


class TestTorchServe(ProviderConformance):
    # No `handler = ...`: the kit calls the plugin through its installed entry point.
    model = "torchserve/llama"
    deterministic = True  # the fake answers one text: streamed pieces must add up to it

    @pytest.fixture(autouse=True)
    def _backend(self, backend: Backend) -> None:
        self._url = backend.url

    @property  # type: ignore[override]
    def call_kwargs(self) -> Mapping[str, Any]:
        return {"api_base": self._url, "timeout": 5.0}

    def error_kwargs(self, status_code: int) -> dict[str, Any]:
        # A key of the body the fake's handler reads, as a real handler reads its options.
        return {"fake_status": status_code}


class TestTorchServeVersioned(TestTorchServe):
    model = "torchserve/llama/2.0"


class TestTorchServeJsonPieces(TestTorchServe):
    # As TorchServe's own vllm_handler.py answers: JSON pieces, streamed even when not asked.
    model = "torchserve/vllm"

    @property  # type: ignore[override]
    def call_kwargs(self) -> Mapping[str, Any]:
        return {**super().call_kwargs, "torchserve_stream_format": "json"}
