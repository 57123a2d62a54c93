"""The chunk a handler's ``streaming``/``astreaming`` yields, as LiteLLM defines it."""

from __future__ import annotations

from typing import Any

from typing_extensions import NotRequired, Required, TypedDict

__all__ = [
    "ChatCompletionToolCallChunk",
    "ChatCompletionToolCallFunctionChunk",
    "ChatCompletionUsageBlock",
    "GenericStreamingChunk",
]


class ChatCompletionToolCallFunctionChunk(TypedDict, total=False):
    """The function part of a streamed tool call; ``arguments`` fragments concatenate."""

    name: str | None
    arguments: str


class ChatCompletionToolCallChunk(TypedDict, total=False):
    """A streamed tool call, as ``GenericStreamingChunk["tool_use"]``."""

    id: str | None
    type: str
    function: ChatCompletionToolCallFunctionChunk
    index: int


class ChatCompletionUsageBlock(TypedDict):
    """Token counts reported by a stream."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class GenericStreamingChunk(TypedDict, total=False):
    """One piece of a handler's stream.

    The keys LiteLLM defines, plus optional ``id`` (the response id every chunk then carries),
    ``reasoning_content`` and ``logprobs``, which reach the caller's chunks unchanged.
    """

    text: Required[str]
    tool_use: Required[ChatCompletionToolCallChunk | None]
    is_finished: Required[bool]
    finish_reason: Required[str]
    usage: Required[ChatCompletionUsageBlock | None]
    index: int
    provider_specific_fields: dict[str, Any] | None
    id: NotRequired[str]
    reasoning_content: NotRequired[str | None]
    logprobs: NotRequired[Any]
