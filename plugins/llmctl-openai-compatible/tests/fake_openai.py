"""A fake OpenAI-compatible server, speaking the API as vLLM serves it.

Written from the protocol's documentation:

- OpenAI's API reference: chat completions and their stream
  (https://platform.openai.com/docs/api-reference/chat/create,
  https://platform.openai.com/docs/api-reference/chat-streaming: ``data: {chunk}`` events,
  ``data: [DONE]`` last, usage in a last chunk with ``choices: []`` when
  ``stream_options.include_usage`` is set), embeddings, images and models.
- vLLM's OpenAI-compatible server
  (https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html): served under
  ``/v1``, extra sampling parameters (``top_k``, ``repetition_penalty``, ...) at the top
  level of the body, errors as ``{"error": {"message", "type", "param", "code"}}`` with the
  status as ``code``, the same object as a ``data:`` event when a stream fails after it
  started, tool calls streamed as ``delta.tool_calls`` fragments, and the fields OpenAI does
  not define (``stop_reason``, ``reasoning_content``, ``prompt_logprobs``).

Models: ``echo`` answers the last user message (one word per streamed chunk; a request with
``tools`` is answered with a call of the first tool), ``embed`` embeds, ``image`` draws.
Keys of the body of the test's own steer failures: ``fake_status`` (answer that status),
``fake_delay`` (seconds before answering), ``fake_stream`` (``drop``: close the connection
after two chunks; ``error``: an error event after two chunks; ``no-done``: end without
``[DONE]``; ``garbage``: an event that is not JSON; ``pause``: wait a second after the
first chunk).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

CREATED = 1_700_000_000
ID = "chatcmpl-fake-1"
TOOL_CALL_ID = "chatcmpl-tool-fake-1"
TOOL_ARGUMENTS = ('{"city": ', '"Paris"}')
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()
MODELS = ("echo", "embed", "image")


@dataclass
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeServer:
    """The app and what it received; ``api_key`` makes it refuse requests without it."""

    api_key: str | None = None
    requests: list[Recorded] = field(default_factory=list)

    @property
    def last(self) -> Recorded:
        return self.requests[-1]

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/chat/completions", self.chat, methods=["POST"]),
                Route("/v1/embeddings", self.embeddings, methods=["POST"]),
                Route("/v1/images/generations", self.images, methods=["POST"]),
                Route("/v1/models", self.models, methods=["GET"]),
            ]
        )

    async def _receive(self, request: Request) -> tuple[Any, Response | None]:
        body = await request.json() if request.method == "POST" else None
        self.requests.append(
            Recorded(request.method, request.url.path, dict(request.headers), body)
        )
        if self.api_key and request.headers.get("authorization") != f"Bearer {self.api_key}":
            return body, JSONResponse({"error": "Unauthorized"}, status_code=401)
        if isinstance(body, dict):
            if body.get("fake_delay"):
                await asyncio.sleep(body["fake_delay"])
            if body.get("fake_status"):
                status = body["fake_status"]
                message = body.get("fake_message") or f"failing with {status}, as asked"
                return body, error(message, status)
            if body.get("model") not in MODELS:
                return body, error(f"The model `{body.get('model')}` does not exist.", 404)
        return body, None

    # -- chat ----------------------------------------------------------------------------------

    async def chat(self, request: Request) -> Response:
        body, failure = await self._receive(request)
        if failure is not None:
            return failure
        words, finish = answer_words(body)
        usage = usage_of(body, words)
        if body.get("stream"):
            include_usage = (body.get("stream_options") or {}).get("include_usage")
            events = stream_events(body, words, finish, usage if include_usage else None)
            return StreamingResponse(events, media_type="text/event-stream")
        if body.get("tools"):
            message: dict[str, Any] = {
                "role": "assistant",
                "content": None,
                "reasoning_content": None,
                "tool_calls": [
                    {
                        "id": TOOL_CALL_ID,
                        "type": "function",
                        "function": {
                            "name": tool_name(body),
                            "arguments": "".join(TOOL_ARGUMENTS),
                        },
                    }
                ],
            }
        else:
            message = {
                "role": "assistant",
                "content": " ".join(words),
                "reasoning_content": "thinking" if body.get("fake_reasoning") else None,
                "tool_calls": [],
            }
        return JSONResponse(
            {
                "id": ID,
                "object": "chat.completion",
                "created": CREATED,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": finish,
                        "stop_reason": None,
                    }
                ],
                "usage": {**usage, "prompt_tokens_details": None},
                "prompt_logprobs": None,
            }
        )

    # -- embeddings, images, models ------------------------------------------------------------

    async def embeddings(self, request: Request) -> Response:
        body, failure = await self._receive(request)
        if failure is not None:
            return failure
        inputs = [body["input"]] if isinstance(body["input"], str) else body["input"]
        dimensions = body.get("dimensions", 4)
        data = []
        for index, text in enumerate(inputs):
            vector = embed(str(text), dimensions)
            value: Any = vector
            if body.get("encoding_format") == "base64":
                value = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
            data.append({"index": index, "object": "embedding", "embedding": value})
        tokens = sum(len(str(text).split()) for text in inputs)
        return JSONResponse(
            {
                "id": "embd-fake-1",
                "object": "list",
                "created": CREATED,
                "model": body["model"],
                "data": data,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens, "completion_tokens": 0},
            }
        )

    async def images(self, request: Request) -> Response:
        body, failure = await self._receive(request)
        if failure is not None:
            return failure
        n = body.get("n", 1)
        if body.get("response_format") == "url":
            data = [{"url": f"https://images.example/{i}.png"} for i in range(n)]
        else:
            data = [{"b64_json": PNG, "revised_prompt": body["prompt"]} for _ in range(n)]
        return JSONResponse({"created": CREATED, "data": data})

    async def models(self, request: Request) -> Response:
        _, failure = await self._receive(request)
        if failure is not None:
            return failure
        return JSONResponse(
            {
                "object": "list",
                "data": [
                    {"id": name, "object": "model", "created": CREATED, "owned_by": "vllm"}
                    for name in MODELS
                ],
            }
        )


def error(message: str, status: int) -> JSONResponse:
    """vLLM's error body: the status is the code, the type its exception class's name."""
    kinds = {400: "BadRequestError", 404: "NotFoundError", 429: "RateLimitError"}
    return JSONResponse(
        {
            "error": {
                "message": message,
                "type": kinds.get(status, "InternalServerError"),
                "param": None,
                "code": status,
            }
        },
        status_code=status,
        headers={"retry-after": "7"} if status == 429 else None,
    )


def answer_words(body: dict[str, Any]) -> tuple[list[str], str]:
    """The echo's words (the last user message's), cut at ``max_tokens``; the finish reason."""
    if body.get("tools"):
        return [], "tool_calls"
    text = next((m["content"] for m in reversed(body["messages"]) if m.get("role") == "user"), "")
    words = str(text).split()
    limit = body.get("max_tokens")
    if limit is not None and len(words) > limit:
        return words[:limit], "length"
    return words, "stop"


def usage_of(body: dict[str, Any], words: list[str]) -> dict[str, int]:
    prompt = sum(len(str(m.get("content") or "").split()) for m in body["messages"])
    return {
        "prompt_tokens": prompt,
        "total_tokens": prompt + len(words),
        "completion_tokens": len(words),
    }


def tool_name(body: dict[str, Any]) -> str:
    return str(body["tools"][0]["function"]["name"])


def chunk(body: dict[str, Any], delta: dict[str, Any], finish: str | None = None) -> bytes:
    choice: dict[str, Any] = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    if finish is not None:
        choice["stop_reason"] = None
    return event(
        {
            "id": ID,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": body["model"],
            "choices": [choice],
        }
    )


def event(data: Any) -> bytes:
    return b"data: " + json.dumps(data).encode() + b"\n\n"


async def stream_events(
    body: dict[str, Any], words: list[str], finish: str, usage: dict[str, int] | None
) -> AsyncIterator[bytes]:
    """vLLM's stream: the role first, a word per chunk, the finish, the usage, ``[DONE]``."""
    how = body.get("fake_stream")
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    if body.get("tools"):
        first = {"id": TOOL_CALL_ID, "type": "function", "index": 0}
        deltas.append({"tool_calls": [{**first, "function": {"name": tool_name(body)}}]})
        deltas.extend(
            {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
            for piece in TOOL_ARGUMENTS
        )
    else:
        deltas.extend({"content": w if i == 0 else " " + w} for i, w in enumerate(words))
    for n, delta in enumerate(deltas):
        if n == 2 and how == "drop":
            raise ConnectionResetError("the fake server drops the connection, as asked")
        if n == 2 and how == "error":
            yield event(
                {
                    "error": {
                        "message": "the engine died, as asked",
                        "type": "InternalServerError",
                        "param": None,
                        "code": 500,
                    }
                }
            )
            yield b"data: [DONE]\n\n"
            return
        if n == 2 and how == "garbage":
            yield b"data: {not json\n\n"
        if n == 2 and how == "pause":
            await asyncio.sleep(1)
        yield chunk(body, delta)
    yield chunk(body, {"content": ""}, finish)
    if usage is not None:
        yield event(
            {
                "id": ID,
                "object": "chat.completion.chunk",
                "created": CREATED,
                "model": body["model"],
                "choices": [],
                "usage": usage,
            }
        )
    if how != "no-done":
        yield b"data: [DONE]\n\n"


def embed(text: str, dimensions: int) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [digest[i] / 255 for i in range(dimensions)]
