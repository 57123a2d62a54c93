"""The proxy benchmark's handler: provider ``bench`` of the config file beside this one.

handler_llmctl.py and handler_litellm.py differ only in the package they import (the runner
checks that), so both proxies call the same code. Every response is built once, at import: a
call costs the proxy's work, not the handler's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from llmctl import CustomLLM, ModelResponse
from llmctl.types.utils import GenericStreamingChunk

TEXT = "Hello from the benchmark handler"
CHUNKS = 20
USAGE = {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}

RESPONSE = ModelResponse(
    choices=[
        {"index": 0, "message": {"role": "assistant", "content": TEXT}, "finish_reason": "stop"}
    ],
    usage=dict(USAGE),
)


def _chunk(*, last: bool) -> GenericStreamingChunk:
    return GenericStreamingChunk(
        text="tok ",
        is_finished=last,
        finish_reason="stop" if last else None,
        usage=dict(USAGE) if last else None,
        index=0,
        tool_use=None,
    )


STREAM = [_chunk(last=i == CHUNKS - 1) for i in range(CHUNKS)]


class BenchLLM(CustomLLM):
    """Answers every call from the prebuilt response and chunks."""

    def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        return RESPONSE

    async def acompletion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        return RESPONSE

    def streaming(self, *args: Any, **kwargs: Any) -> Iterator[GenericStreamingChunk]:
        yield from STREAM

    async def astreaming(self, *args: Any, **kwargs: Any) -> AsyncIterator[GenericStreamingChunk]:
        for chunk in STREAM:
            yield chunk


bench_llm = BenchLLM()
