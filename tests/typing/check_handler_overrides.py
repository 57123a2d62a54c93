"""Handler overrides written the natural way type-check (run by mypy)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import llmctl
from llmctl.types import GenericStreamingChunk


class AsyncGeneratorStreams(llmctl.CustomLLM):
    """``astreaming`` as an async generator, as LiteLLM's guide writes it."""

    async def astreaming(self, *args: Any, **kwargs: Any) -> AsyncIterator[GenericStreamingChunk]:
        yield {"text": "x", "is_finished": True, "finish_reason": "stop", "index": 0}  # type: ignore[typeddict-item]
