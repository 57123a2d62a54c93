"""The standard suite of llmctl's conformance kit, against the installed ``example`` plugin."""

from __future__ import annotations

from typing import Any

from llmctl.testing import ProviderConformance

from llmctl_example.handler import FAIL_PARAM


class TestExample(ProviderConformance):
    # No `handler = ...`: the kit calls the plugin through its installed entry point, as users
    # get it after `pip install`.
    model = "example/echo"
    image_model = "example/image"
    embedding_model = "example/embed"
    deterministic = True  # an echo: the streamed text must equal the complete answer

    def error_kwargs(self, status_code: int) -> dict[str, Any]:
        return {FAIL_PARAM: status_code}


class TestReverse(TestExample):
    model = "example/reverse"
