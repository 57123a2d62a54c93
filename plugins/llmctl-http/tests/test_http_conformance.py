"""llmctl's conformance kit against the installed ``http`` plugin, once per stream framing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmctl.testing import ProviderConformance

import fake_acme
from conftest import ADDRESS


class TestNdjson(ProviderConformance):
    # No `handler = ...`: the kit calls the plugin through its installed entry point.
    model = "http/acme-1"
    deterministic = True  # the fake answers the same words to the same request
    description: Mapping[str, Any] = fake_acme.NDJSON

    @property
    def call_kwargs(self) -> dict[str, Any]:  # type: ignore[override]
        return {"api_base": ADDRESS["url"], "http": self.description}

    def error_kwargs(self, status_code: int) -> dict[str, Any]:
        return {"fail": status_code}


class TestSse(TestNdjson):
    description = fake_acme.SSE


class TestText(TestNdjson):
    description = fake_acme.TEXT


class TestNone(TestNdjson):
    description = fake_acme.NONE
