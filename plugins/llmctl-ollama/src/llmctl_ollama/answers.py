"""Ollama's /api/chat answers as llmctl's: a ``ModelResponse``, or ``GenericStreamingChunk`` dicts.

An answer (one JSON object, or each NDJSON line of a stream) carries ``message.content``,
``message.thinking`` (a thinking model's reasoning), ``message.tool_calls`` (arguments as a
JSON object, and usually no id) and ``logprobs`` when asked; the last one (``done: true``) has
``done_reason`` and the token counts ``prompt_eval_count`` and ``eval_count``.

- ``content`` is the text, ``thinking`` the ``reasoning_content``;
- each tool call gets an id (Ollama's own when it sends one, else a fresh ``call_...``) and its
  arguments as a JSON string, as OpenAI's clients expect;
- the finish reason is ``tool_calls`` when the model called a tool, ``length`` when it ran
  out of ``num_predict``, else ``stop``;
- the counts are the usage, on the response or on the stream's last chunk;
- an object with an ``error`` (Ollama's way of failing after a stream has started) raises.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from llmctl import Choices, ModelResponse, Usage
from llmctl.exceptions import BadGatewayError, InternalServerError
from llmctl.http import Endpoint
from llmctl.types import (
    ChatCompletionToolCallChunk,
    ChatCompletionUsageBlock,
    GenericStreamingChunk,
)

__all__ = [
    "ChatStream",
    "checked",
    "finish_reason",
    "is_done",
    "logprobs",
    "model_response",
    "tool_calls",
    "usage",
]


def is_done(item: Any) -> bool:
    """Whether ``item`` is a stream's last object (``done: true``)."""
    return isinstance(item, Mapping) and item.get("done") is True


def checked(item: Any, server: Endpoint, what: str) -> Mapping[str, Any]:
    """Return an object of Ollama's answer, or raise the error it carries.

    :param what: the answer's place, for messages ("its answer", "its stream").
    :raises InternalServerError: the object is ``{"error": "..."}``, keeping Ollama's message.
    :raises BadGatewayError: it is not a JSON object.
    """
    if not isinstance(item, Mapping):
        raise BadGatewayError(
            f"ollama at {server.base_url} sent {what} that is not a JSON object: {item!r:.200}",
            llm_provider=server.provider,
            model=server.model,
        )
    error = item.get("error")
    if error is not None:
        raise InternalServerError(
            f"ollama at {server.base_url} reported an error in {what}: {error}",
            llm_provider=server.provider,
            model=server.model,
        )
    return item


def model_response(data: Any, server: Endpoint) -> ModelResponse:
    """Return the ``ModelResponse`` of a complete /api/chat answer (``stream: false``).

    :raises LLMCtlError: the answer is an error, or has no message.
    """
    answer = checked(data, server, "its answer")
    message = answer.get("message")
    if not isinstance(message, Mapping):
        raise BadGatewayError(
            f"ollama at {server.base_url} answered POST /api/chat without a message: "
            f"{json.dumps(answer)[:200]}",
            llm_provider=server.provider,
            model=server.model,
        )
    calls = tool_calls(message.get("tool_calls"))
    content = message.get("content") or ""
    reply: dict[str, Any] = {"role": "assistant", "content": content or (None if calls else "")}
    if calls:
        reply["tool_calls"] = calls
    if thinking := message.get("thinking"):
        reply["reasoning_content"] = thinking
    choice: dict[str, Any] = {
        "index": 0,
        "message": reply,
        "finish_reason": finish_reason(answer.get("done_reason"), tools_called=bool(calls)),
    }
    if (probabilities := logprobs(answer.get("logprobs"))) is not None:
        choice["logprobs"] = probabilities
    return ModelResponse(
        model=answer.get("model") or server.model,
        choices=[Choices(**choice)],
        usage=Usage(**usage(answer)),
    )


class ChatStream:
    """The chunks of one /api/chat stream, line by line.

    :param server: the endpoint streaming, for messages.
    """

    __slots__ = ("_calls", "_server")

    def __init__(self, server: Endpoint) -> None:
        self._server = server
        self._calls = 0  # tool calls so far: the next one's index

    def chunks(self, line: Any) -> list[GenericStreamingChunk]:
        """Return the chunks of one line: its text, then its tool calls; the finish on the last.

        :raises LLMCtlError: the line is Ollama's ``{"error": ...}``, or not an object.
        """
        item = checked(line, self._server, "its stream")
        message = item.get("message")
        if not isinstance(message, Mapping):
            message = {}
        out: list[GenericStreamingChunk] = []
        text = message.get("content") or ""
        thinking = message.get("thinking")
        probabilities = logprobs(item.get("logprobs"))
        if text or thinking or probabilities is not None:
            chunk = _chunk(text)
            if thinking:
                chunk["reasoning_content"] = thinking
            if probabilities is not None:
                chunk["logprobs"] = probabilities
            out.append(chunk)
        for call in tool_calls(message.get("tool_calls")):
            tool_use: ChatCompletionToolCallChunk = {
                "index": self._calls,
                "id": call["id"],
                "type": "function",
                "function": call["function"],
            }
            out.append(_chunk("", tool_use))
            self._calls += 1
        if is_done(item):
            if not out:
                out.append(_chunk(""))
            out[-1]["is_finished"] = True
            out[-1]["finish_reason"] = finish_reason(
                item.get("done_reason"), tools_called=self._calls > 0
            )
            out[-1]["usage"] = usage(item)
        return out


def _chunk(text: str, tool_use: ChatCompletionToolCallChunk | None = None) -> GenericStreamingChunk:
    return {
        "text": text,
        "tool_use": tool_use,
        "is_finished": False,
        "finish_reason": "",
        "usage": None,
        "index": 0,
    }


def tool_calls(calls: Any) -> list[dict[str, Any]]:
    """Return Ollama's ``message.tool_calls`` as OpenAI's: an id, and arguments as JSON text."""
    out: list[dict[str, Any]] = []
    for call in calls or ():
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping):
            continue
        arguments = function.get("arguments")
        out.append(
            {
                "id": call.get("id") or f"call_{os.urandom(12).hex()}",
                "type": "function",
                "function": {
                    "name": function.get("name"),
                    "arguments": arguments
                    if isinstance(arguments, str)
                    else json.dumps(arguments if arguments is not None else {}),
                },
            }
        )
    return out


def finish_reason(done_reason: Any, *, tools_called: bool) -> str:
    """Return OpenAI's finish reason for Ollama's ``done_reason``."""
    if tools_called:
        return "tool_calls"
    return "length" if done_reason == "length" else "stop"


def usage(answer: Mapping[str, Any]) -> ChatCompletionUsageBlock:
    """Return the usage of an answer's counts (zero where Ollama left a count out)."""
    prompt = int(answer.get("prompt_eval_count") or 0)
    completion = int(answer.get("eval_count") or 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def logprobs(entries: Any) -> dict[str, Any] | None:
    """Return Ollama's ``logprobs`` as OpenAI's ``{"content": [...]}`` (None when absent)."""
    if not isinstance(entries, list):
        return None
    return {
        "content": [_token(entry, nested=True) for entry in entries if isinstance(entry, Mapping)]
    }


def _token(entry: Mapping[str, Any], *, nested: bool) -> dict[str, Any]:
    token: dict[str, Any] = {
        "token": entry.get("token", ""),
        "logprob": entry.get("logprob", 0.0),
        "bytes": entry.get("bytes"),
    }
    if nested:
        alternatives = entry.get("top_logprobs") or ()
        token["top_logprobs"] = [
            _token(alt, nested=False) for alt in alternatives if isinstance(alt, Mapping)
        ]
    return token
