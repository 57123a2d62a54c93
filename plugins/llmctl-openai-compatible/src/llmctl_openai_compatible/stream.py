"""A streamed chat completion: each ``chat.completion.chunk`` event as llmctl's stream chunks.

The server sends OpenAI's chunks as server-sent events
(https://platform.openai.com/docs/api-reference/chat-streaming), ending with ``data: [DONE]``:
text in ``choices[i].delta.content``, tool calls in ``delta.tool_calls`` fragments (an
``index``, then the ``id`` and function ``name`` once, then ``arguments`` in pieces), the
``finish_reason`` on a choice's last chunk, and usage in a last chunk with ``choices: []``.

A server that fails after the stream started sends ``data: {"error": {...}}`` (vLLM, SGLang,
llmctl's and LiteLLM's proxies do): :func:`stream_chunks` raises it as the llmctl error of
its code, never drops it.
"""

from __future__ import annotations

import json
from typing import Any, Final

from llmctl import GenericStreamingChunk, ModelResponseStream
from llmctl.exceptions import BadGatewayError, LLMCtlError, error_for_status
from llmctl.http import Endpoint

__all__ = ["plain_chunk", "stream_chunks", "stream_error"]

_NO_DELTA: Final[dict[str, Any]] = {}

#: The HTTP status of an error event that gives its ``type`` but no numeric ``code``:
#: OpenAI's types, and the class names vLLM and SGLang send.
_STATUS_OF_TYPE: Final = {
    "invalid_request_error": 400,
    "BadRequestError": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "NotFoundError": 404,
    "timeout_error": 408,
    "rate_limit_error": 429,
    "RateLimitError": 429,
    "server_error": 500,
    "api_error": 500,
    "InternalServerError": 500,
    "ServiceUnavailableError": 503,
}


def stream_chunks(data: Any, endpoint: Endpoint) -> list[GenericStreamingChunk]:
    """Return the chunks of one decoded event: one per choice, and one per extra tool call.

    :raises LLMCtlError: the event is an error (see :func:`stream_error`).
    :raises BadGatewayError: the event is not a chunk object.
    """
    if type(data) is not dict:
        raise BadGatewayError(
            f"{endpoint.provider} sent an event that is not a chat.completion.chunk object in "
            f"the stream of POST {endpoint.url('chat/completions')}: {data!r:.300}",
            llm_provider=endpoint.provider,
            model=endpoint.model,
        )
    choices = data.get("choices")
    usage = data.get("usage")
    if not choices:
        if "error" in data:
            raise stream_error(data["error"], endpoint)
        if usage:  # the last chunk asked for by stream_options.include_usage
            return [
                {
                    "text": "",
                    "tool_use": None,
                    "is_finished": False,
                    "finish_reason": "",
                    "usage": usage,
                }
            ]
        return []
    id = data.get("id")
    out: list[GenericStreamingChunk] = []
    for choice in choices:
        delta = choice.get("delta") or _NO_DELTA
        finish_reason = choice.get("finish_reason")
        tool_calls = delta.get("tool_calls")
        chunk: GenericStreamingChunk = {
            "text": delta.get("content") or "",
            "tool_use": tool_calls[0] if tool_calls else None,
            "is_finished": finish_reason is not None,
            "finish_reason": finish_reason or "",
            "usage": usage,
            "index": choice.get("index") or 0,
        }
        if id:
            chunk["id"] = id
        # vLLM's reasoning parsers send reasoning_content (newer versions: reasoning).
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning:
            chunk["reasoning_content"] = reasoning
        logprobs = choice.get("logprobs")
        if logprobs is not None:
            chunk["logprobs"] = logprobs
        out.append(chunk)
        if tool_calls and len(tool_calls) > 1:  # one tool call per llmctl chunk
            index = chunk["index"]
            out.extend(
                {
                    "text": "",
                    "tool_use": call,
                    "is_finished": False,
                    "finish_reason": "",
                    "usage": None,
                    "index": index,
                }
                for call in tool_calls[1:]
            )
    return out


def plain_chunk(text: str) -> ModelResponseStream | None:
    """Return an event llmctl can take as it is, validated; else None.

    That is any ``chat.completion.chunk`` in OpenAI's shape: text, tool calls, finishes,
    usage, several choices. llmctl finishes a text delta, most of a stream, in place and
    rebuilds the others: one JSON decode and one model build per event (#6). An event with
    keys OpenAI's chunks do not have (an ``error``, vLLM's ``reasoning``) or that is not a
    chunk object goes through :func:`stream_chunks`, which reads it or says what is wrong.
    """
    try:
        # The validator itself, looked up per call: the model builds it when first used.
        chunk: ModelResponseStream = ModelResponseStream.__pydantic_validator__.validate_json(text)
    except ValueError:  # pydantic's ValidationError
        return None
    if chunk.__pydantic_extra__:
        return None
    for choice in chunk.choices:
        if choice.delta.__pydantic_extra__:
            return None
    return chunk


def stream_error(error: Any, endpoint: Endpoint) -> LLMCtlError:
    """Return the llmctl error of an ``{"error": ...}`` event sent in the middle of a stream.

    Its class is that of the event's ``code`` when it is an HTTP status (vLLM sends ``400``,
    llmctl's proxy ``"429"``), else that of its ``type``, else 500; the message keeps what
    the server said.
    """
    said, status = str(error), 500
    if isinstance(error, dict):
        said = error.get("message") or json.dumps(error)
        kind = error.get("type")
        status = _status(error.get("code")) or (
            _STATUS_OF_TYPE.get(kind, 500) if isinstance(kind, str) else 500
        )
    return error_for_status(
        status,
        f"{endpoint.provider} sent an error in the middle of the stream of POST "
        f"{endpoint.url('chat/completions')}: {said}",
        llm_provider=endpoint.provider,
        model=endpoint.model,
    )


def _status(code: Any) -> int | None:
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
        return code
    return None
