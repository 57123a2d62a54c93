"""``stream_chunk_builder``: a whole response rebuilt from its stream chunks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from llmctl.types.responses import ModelResponse, ModelResponseStream

__all__ = ["stream_chunk_builder"]


class _Choice:
    """The parts of one choice gathered across chunks."""

    __slots__ = ("content", "extra", "finish_reason", "function_call", "logprobs", "tool_calls")

    def __init__(self) -> None:
        self.content: list[str] = []
        self.extra: dict[str, Any] = {}
        self.finish_reason = "stop"
        self.function_call: dict[str, str] | None = None
        self.logprobs: list[Any] | None = None
        self.tool_calls: dict[int, dict[str, Any]] = {}

    def add(self, choice: Any) -> None:
        delta = choice.delta
        if delta.content:
            self.content.append(delta.content)
        for call in delta.tool_calls or ():
            whole = self.tool_calls.setdefault(
                call.index, {"id": None, "type": "function", "function": {"name": None}}
            )
            whole["id"] = call.id or whole["id"]
            if call.function is not None:
                function = whole["function"]
                function["name"] = call.function.name or function["name"]
                function["arguments"] = function.get("arguments", "") + call.function.arguments
        if delta.function_call is not None:
            whole_call = self.function_call or {"name": "", "arguments": ""}
            whole_call["name"] = delta.function_call.name or whole_call["name"]
            whole_call["arguments"] += delta.function_call.arguments
            self.function_call = whole_call
        for key, value in (delta.__pydantic_extra__ or {}).items():
            if isinstance(value, str) and isinstance(self.extra.get(key), str):
                self.extra[key] += value  # reasoning_content arrives in pieces
            elif isinstance(value, dict) and isinstance(self.extra.get(key), dict):
                self.extra[key] = {**self.extra[key], **value}
            elif value is not None:
                self.extra[key] = value
        logprobs = choice.get("logprobs")
        if isinstance(logprobs, Mapping) and logprobs.get("content"):
            self.logprobs = (self.logprobs or []) + list(logprobs["content"])
        if choice.finish_reason:
            self.finish_reason = choice.finish_reason

    def build(self, index: int) -> dict[str, Any]:
        message: dict[str, Any] = {
            "content": "".join(self.content) if self.content else None,
            "role": "assistant",
            "tool_calls": [self.tool_calls[i] for i in sorted(self.tool_calls)] or None,
            "function_call": self.function_call,
            **self.extra,
        }
        choice: dict[str, Any] = {
            "finish_reason": self.finish_reason,
            "index": index,
            "message": message,
        }
        if self.logprobs is not None:
            choice["logprobs"] = {"content": self.logprobs}
        return choice


def stream_chunk_builder(
    chunks: Iterable[ModelResponseStream | Mapping[str, Any]],
    messages: list[Any] | None = None,
) -> ModelResponse:
    """Rebuild the complete response a stream's chunks add up to.

    Content, tool call fragments, ``reasoning_content`` and logprobs are joined per choice;
    the last ``finish_reason`` and the last ``usage`` reported win; id, created and model come
    from the first chunk.

    :param chunks: the chunks, as objects or as their ``model_dump()`` dicts.
    :param messages: accepted for LiteLLM compatibility; usage is never estimated from it.
    :raises ValueError: there are no chunks.
    """
    parsed = [
        chunk
        if isinstance(chunk, ModelResponseStream)
        else ModelResponseStream.model_validate(chunk)
        for chunk in chunks
    ]
    if not parsed:
        raise ValueError("stream_chunk_builder() needs at least one chunk, got none")
    choices: dict[int, _Choice] = {}
    usage: Any = None
    for chunk in parsed:
        for choice in chunk.choices:
            choices.setdefault(choice.index, _Choice()).add(choice)
        if chunk.usage is not None:
            usage = chunk.usage
    first = parsed[0]
    response: dict[str, Any] = {
        "id": first.id,
        "choices": [choices[i].build(i) for i in sorted(choices)] or [{}],
        "created": first.created,
        "model": first.model,
    }
    if usage is not None:
        response["usage"] = usage
    if first.system_fingerprint is not None:
        response["system_fingerprint"] = first.system_fingerprint
    return ModelResponse.model_validate(response)
