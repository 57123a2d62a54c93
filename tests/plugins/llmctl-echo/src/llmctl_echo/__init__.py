"""A provider that echoes the last message back, for packaging and discovery tests.

Every answer reads ``echo:<method>:<text>``, so a test can tell which of the four handler
methods served a call; the two stream methods yield the answer word by word.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from llmctl import CustomLLM, GenericStreamingChunk, ModelResponse


def _answer(method: str, messages: list[Any]) -> str:
    return f"echo:{method}:{messages[-1]['content']}"


def _chunks(answer: str) -> Iterator[GenericStreamingChunk]:
    words = answer.split(" ")
    for i, word in enumerate(words):
        last = i == len(words) - 1
        yield {
            "text": word if last else f"{word} ",
            "tool_use": None,
            "is_finished": last,
            "finish_reason": "stop" if last else "",
            "usage": None,
            "index": 0,
        }


class EchoLLM(CustomLLM):
    """Answers with the content of the last message, through each of its four methods."""

    def completion(self, *, messages: list[Any], **kwargs: Any) -> ModelResponse:
        """Echo the last message."""
        return ModelResponse(choices=[{"message": {"content": _answer("completion", messages)}}])

    async def acompletion(self, *, messages: list[Any], **kwargs: Any) -> ModelResponse:
        """Echo the last message asynchronously."""
        return ModelResponse(choices=[{"message": {"content": _answer("acompletion", messages)}}])

    def streaming(self, *, messages: list[Any], **kwargs: Any) -> Iterator[GenericStreamingChunk]:
        """Echo the last message word by word."""
        yield from _chunks(_answer("streaming", messages))

    async def astreaming(
        self, *, messages: list[Any], **kwargs: Any
    ) -> AsyncIterator[GenericStreamingChunk]:
        """Echo the last message word by word, asynchronously."""
        for chunk in _chunks(_answer("astreaming", messages)):
            yield chunk


handler = EchoLLM()
