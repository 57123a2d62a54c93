"""Shared fixtures: every test leaves ``llmctl.custom_provider_map`` as it found it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import llmctl

Register = Callable[..., None]


@pytest.fixture(autouse=True)
def _restore_provider_map() -> Iterator[None]:
    saved = llmctl.custom_provider_map
    llmctl.custom_provider_map = []
    yield
    llmctl.custom_provider_map = saved


@pytest.fixture
def register() -> Register:
    """Register handlers by name: ``register(acme=AcmeLLM())``."""

    def register(**handlers: Any) -> None:
        llmctl.custom_provider_map = [
            {"provider": name, "custom_handler": handler} for name, handler in handlers.items()
        ]

    return register


MESSAGES = [{"role": "user", "content": "Hello"}]
