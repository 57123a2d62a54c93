"""Reading answers with the description's paths: text, finish reason, usage, tool calls, vectors.

In a complete answer every configured path must be there: one that is not is a
:class:`~llmctl.exceptions.BadGatewayError` naming the path, where the lookup stopped, and a
snippet of the answer. In a stream each event carries only some of them, so there a missing
path is simply not in that event.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, Final

from llmctl import Choices, Embedding, EmbeddingResponse, Message, ModelResponse, Usage
from llmctl.exceptions import BadGatewayError
from llmctl.types import ChatCompletionUsageBlock

from llmctl_http.paths import MISSING, JsonPath, snippet
from llmctl_http.schema import FINISH_REASONS, Answer, FinishReason, UsagePaths

__all__ = [
    "COMMON_REASONS",
    "Reader",
    "chat_response",
    "embedding_response",
    "finish_reason",
]

#: Backends' common finish reasons and OpenAI's names for them; a description's own ``map``
#: comes first. Any other value is read as ``stop``.
COMMON_REASONS: Final = {
    "eos": "stop",
    "eos_token": "stop",
    "end": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "complete": "stop",
    "max_tokens": "length",
    "max_length": "length",
    "max_new_tokens": "length",
    "tool_use": "tool_calls",
    "function_calls": "tool_calls",
    "content_filtered": "content_filter",
    "safety": "content_filter",
}
_PROVIDER: Final = "http"
_USAGE_KEYS: Final = ("prompt_tokens", "completion_tokens", "total_tokens")


class Reader:
    """Reads one answer (or one stream event) of a call, raising errors that say where.

    :param where: ``METHOD URL`` of the request, for messages.
    :param section: the description's key the paths come from (``response``), for messages.
    :param model: the model called, for messages.
    """

    __slots__ = ("model", "section", "where")

    def __init__(self, where: str, section: str, model: str) -> None:
        self.where = where
        self.section = section
        self.model = model

    def error(self, problem: str, answer: Any) -> BadGatewayError:
        """Return the error for an answer that is not what the description says."""
        return BadGatewayError(
            f"{_PROVIDER} got an answer to {self.where} that does not fit the API description: "
            f"{problem}; the answer: {snippet(answer)}",
            llm_provider=_PROVIDER,
            model=self.model,
        )

    def require(self, answer: Any, path: JsonPath, key: str) -> Any:
        """Return the value at ``path``, or raise naming ``http.<section>.<key>``."""
        value = path.find(answer)
        if value is MISSING:
            problem = f"http.{self.section}.{key} is {path.text!r}, but {path.why_missing(answer)}"
            raise self.error(problem, answer)
        return value

    def text(self, value: Any, answer: Any, path: JsonPath) -> str | None:
        """Check that a text value is a string (or null)."""
        if value is None or isinstance(value, str):
            return value
        raise self.error(f"{path.text!r} is {snippet(value)}, not a string", answer)

    def usage(
        self, answer: Any, paths: UsagePaths | None, *, strict: bool
    ) -> dict[str, int] | None:
        """Return the token counts the answer has at ``paths`` (None without paths).

        :param strict: a missing count is an error (a complete answer), or left out (a
            stream event).
        """
        if paths is None:
            return None
        counts = {}
        for key in _USAGE_KEYS:
            path: JsonPath | None = getattr(paths, key)
            if path is None:
                continue
            value = self.require(answer, path, f"usage.{key}") if strict else path.find(answer)
            if value is MISSING or value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise self.error(f"{path.text!r} is {snippet(value)}, not a token count", answer)
            counts[key] = int(value)
        return counts

    def tool_calls(
        self, value: Any, answer: Any, path: JsonPath, *, partial: bool = False
    ) -> list[dict[str, Any]]:
        """Return OpenAI-shaped tool calls from a list of them, or of ``{name, arguments}``.

        :param partial: the calls are stream fragments (OpenAI's ``delta.tool_calls``): a
            fragment may lack the name, and keeps its ``index``.
        """
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(f"{path.text!r} is {snippet(value)}, not a list of tool calls", answer)
        calls = []
        for n, item in enumerate(value):
            function = item.get("function", item) if isinstance(item, Mapping) else None
            name = function.get("name") if isinstance(function, Mapping) else None
            if not isinstance(function, Mapping) or not (
                isinstance(name, str) or (partial and name is None)
            ):
                raise self.error(
                    f"{path.text}.{n} is {snippet(item)}, not a tool call with a function name",
                    answer,
                )
            arguments = function.get("arguments") or ""
            if not isinstance(arguments, str):
                arguments = json.dumps(arguments, ensure_ascii=False)
            call: dict[str, Any] = {
                "type": "function",
                "function": {"name": name, "arguments": arguments},
            }
            assert isinstance(item, Mapping)  # function is item or inside it
            if isinstance(item.get("id"), str):
                call["id"] = item["id"]
            if partial and isinstance(item.get("index"), int):
                call["index"] = item["index"]
            calls.append(call)
        return calls


def finish_reason(value: Any, spec: FinishReason) -> str | None:
    """Map the backend's finish reason to OpenAI's (None: the answer did not say)."""
    if value is None:
        return None
    key = value if isinstance(value, str) else json.dumps(value)
    mapped = spec.map.get(key)
    if mapped is not None:
        return mapped
    if key in FINISH_REASONS:
        return key
    return COMMON_REASONS.get(key.lower(), "stop")


def usage_block(counts: Mapping[str, int]) -> ChatCompletionUsageBlock:
    """Return token counts as a stream chunk's usage, the total filled in."""
    prompt = counts.get("prompt_tokens", 0)
    completion = counts.get("completion_tokens", 0)
    total = counts.get("total_tokens") or prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


def chat_response(answer: Any, spec: Answer, reader: Reader) -> ModelResponse:
    """Return the ``ModelResponse`` of a complete answer (decoded JSON, or the text itself)."""
    if spec.format == "text":
        return _response(answer if isinstance(answer, str) else "", [], None, None, reader)
    assert spec.text is not None  # the description requires it with format json
    text = reader.text(reader.require(answer, spec.text, "text"), answer, spec.text)
    calls: list[dict[str, Any]] = []
    if spec.tool_calls is not None:
        value = reader.require(answer, spec.tool_calls, "tool_calls")
        calls = reader.tool_calls(value, answer, spec.tool_calls)
    reason = None
    if spec.finish_reason is not None:
        value = reader.require(answer, spec.finish_reason.path, "finish_reason")
        reason = finish_reason(value, spec.finish_reason)
    counts = reader.usage(answer, spec.usage, strict=True)
    return _response(text, calls, reason, counts, reader)


def _response(
    text: str | None,
    calls: list[dict[str, Any]],
    reason: str | None,
    counts: Mapping[str, int] | None,
    reader: Reader,
) -> ModelResponse:
    if reason is None or (calls and reason == "stop"):
        reason = "tool_calls" if calls else "stop"
    message = Message.model_validate({"content": text, "tool_calls": calls or None})
    return ModelResponse(
        model=reader.model,
        choices=[Choices(finish_reason=reason, index=0, message=message)],
        usage=Usage(**usage_block(counts)) if counts else Usage(),
    )


def embedding_response(
    answer: Any, vectors_path: JsonPath, usage: UsagePaths | None, count: int, reader: Reader
) -> EmbeddingResponse:
    """Return the ``EmbeddingResponse`` of an answer holding ``count`` vectors."""
    vectors = reader.require(answer, vectors_path, "vectors")
    if _is_vector(vectors):
        vectors = [vectors]  # an API embedding one text answers one vector
    if not isinstance(vectors, list) or not all(_is_vector(v) for v in vectors):
        raise reader.error(
            f"{vectors_path.text!r} is {snippet(vectors)}, not a list of vectors of numbers",
            answer,
        )
    if len(vectors) != count:
        raise reader.error(
            f"{vectors_path.text!r} holds {len(vectors)} vectors for {count} inputs", answer
        )
    counts = reader.usage(answer, usage, strict=True)
    return EmbeddingResponse(
        model=reader.model,
        data=[
            Embedding(index=n, embedding=[float(x) for x in vector])
            for n, vector in enumerate(vectors)
        ],
        usage=Usage(**usage_block(counts)) if counts else Usage(),
    )


def _is_vector(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
            for x in value
        )
    )
