"""A fake in-house LLM server, "Acme", with one route per stream framing llmctl-http reads.

The framings are written from their specifications:

- NDJSON (https://github.com/ndjson/ndjson-spec): one JSON text per line, each followed by
  ``\\n``, media type ``application/x-ndjson``;
- server-sent events (https://html.spec.whatwg.org/multipage/server-sent-events.html):
  ``data:`` lines, an event ended by a blank line, media type ``text/event-stream``;
- chunked plain text (HTTP/1.1 chunked transfer coding,
  https://www.rfc-editor.org/rfc/rfc9112#section-7.1).

Routes (the answer is ``WORDS``, cut to ``params.max_len`` words with stop reason
``max_len``, else ``eos``):

- ``POST /v2/generate/{model}``: ``{"input": prompt, "params": {...}}`` answered
  ``{"output": {"text", "stop_reason"}, "meta": {"in", "out"}}``;
- ``POST /v2/stream/{model}``: the same request, NDJSON lines ``{"delta": word}``, the last
  ``{"delta": "", "done": true, "stop_reason", "meta"}``;
- ``POST /v1/chat/{model}``: ``{"messages": [...], "max_tokens"}``, OpenAI-like SSE events
  ``data: {"choices": [{"delta": {"content"}}]}``, a last one with ``finish_reason`` and
  ``usage``, then ``data: [DONE]``; without ``stream`` true, one JSON answer. A request with
  ``tools`` is answered with :data:`TOOL_CALL` in ``tool_calls`` (finish reason ``tool_use``),
  streamed whole, or as OpenAI's fragments when the body has ``fragments`` true;
- ``POST /v3/complete``: ``{"prompt"}``, answered in chunked plain text;
- ``POST /embed``: ``{"texts": [...]}`` answered ``{"data": [{"vector": [...]}], "tokens"}``;
- ``GET /healthz``: ``{"status": "up"}``.

Keys of the request body steer failures: ``fail`` (answer that status, with ``fail_message``
as ``{"error": {"message"}}``), ``delay`` (seconds before answering), ``drop`` (close the
connection after two pieces of a stream), ``no_done`` (end a stream without its last event).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

WORDS = ("hello", "from", "the", "acme", "model")
#: The call a request with ``tools`` is answered with: Acme's flat shape, arguments an object.
TOOL_CALL = {"name": "get_weather", "arguments": {"city": "Paris"}}


@dataclass
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any


@dataclass
class Acme:
    """The app and what it received; ``api_key`` makes it refuse requests without it."""

    api_key: str | None = None
    requests: list[Recorded] = field(default_factory=list)

    @property
    def last(self) -> Recorded:
        return self.requests[-1]

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v2/generate/{model}", self.generate, methods=["POST"]),
                Route("/v2/stream/{model}", self.ndjson, methods=["POST"]),
                Route("/v1/chat/{model}", self.chat, methods=["POST"]),
                Route("/v3/complete", self.text, methods=["POST"]),
                Route("/embed", self.embed, methods=["POST"]),
                Route("/healthz", self.health, methods=["GET"]),
            ]
        )

    async def _receive(self, request: Request) -> tuple[dict[str, Any], Response | None]:
        raw = await request.body()
        body = json.loads(raw) if raw else {}
        self.requests.append(
            Recorded(
                request.method,
                request.url.path,
                request.url.query,
                dict(request.headers),
                body if raw else None,
            )
        )
        if self.api_key and request.headers.get("x-api-key") != self.api_key:
            return body, JSONResponse({"error": {"message": "bad API key"}}, status_code=401)
        if body.get("delay"):
            await asyncio.sleep(body["delay"])
        if body.get("fail"):
            message = body.get("fail_message") or f"failing with {body['fail']}, as asked"
            return body, JSONResponse({"error": {"message": message}}, status_code=body["fail"])
        return body, None

    # -- chat ----------------------------------------------------------------------------------

    async def generate(self, request: Request) -> Response:
        body, failure = await self._receive(request)
        if failure is not None:
            return failure
        words, reason = answer(body.get("params", {}).get("max_len"))
        return JSONResponse(
            {
                "output": {"text": " ".join(words), "stop_reason": reason},
                "meta": {"in": len(str(body.get("input", "")).split()), "out": len(words)},
            }
        )

    async def ndjson(self, request: Request) -> Response:
        body, failure = await self._receive(request)
        if failure is not None:
            return failure
        words, reason = answer(body.get("params", {}).get("max_len"))

        async def lines() -> AsyncIterator[bytes]:
            for n, word in enumerate(words):
                if n == 2 and body.get("drop"):
                    raise ConnectionResetError("the fake drops the connection, as asked")
                yield json.dumps({"delta": word if n == 0 else " " + word}).encode() + b"\n"
            if not body.get("no_done"):
                meta = {"in": len(str(body.get("input", "")).split()), "out": len(words)}
                last = {"delta": "", "done": True, "stop_reason": reason, "meta": meta}
                yield json.dumps(last).encode() + b"\n"

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    async def chat(self, request: Request) -> Response:
        body, failure = await self._receive(request)
        if failure is not None:
            return failure
        words, reason = answer(body.get("max_tokens"))
        finish = "length" if reason == "max_len" else "stop"
        usage = {"prompt_tokens": len(body.get("messages", [])), "completion_tokens": len(words)}
        calls = [TOOL_CALL] if body.get("tools") else []
        if calls:
            words, finish = (), "tool_use"
        if not body.get("stream"):
            message = {"role": "assistant", "content": " ".join(words), "tool_calls": calls}
            choice = {"message": message, "finish_reason": finish}
            return JSONResponse({"choices": [choice], "usage": usage})

        async def events() -> AsyncIterator[bytes]:
            if calls and body.get("fragments"):  # OpenAI's way: the arguments in pieces
                first = {"index": 0, "id": "call-1", "type": "function"}
                first["function"] = {"name": TOOL_CALL["name"], "arguments": ""}
                yield sse({"choices": [{"delta": {"tool_calls": [first]}}]})
                for piece in ('{"city": ', '"Paris"}'):
                    fragment = {"index": 0, "function": {"arguments": piece}}
                    yield sse({"choices": [{"delta": {"tool_calls": [fragment]}}]})
            elif calls:
                yield sse({"choices": [{"delta": {"tool_calls": calls}}]})
            for n, word in enumerate(words):
                if n == 2 and body.get("drop"):
                    raise ConnectionResetError("the fake drops the connection, as asked")
                delta = {"content": word if n == 0 else " " + word}
                yield sse({"choices": [{"delta": delta}]})
            if not body.get("no_done"):
                yield sse({"choices": [{"delta": {}, "finish_reason": finish}], "usage": usage})
                yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def text(self, request: Request) -> Response:
        body, failure = await self._receive(request)
        if failure is not None:
            return failure
        words, _ = answer(body.get("max_len"))

        async def pieces() -> AsyncIterator[bytes]:
            for n, word in enumerate(words):
                if n == 2 and body.get("drop"):
                    raise ConnectionResetError("the fake drops the connection, as asked")
                yield (word if n == 0 else " " + word).encode()
                await asyncio.sleep(0)  # one chunk of the chunked coding per word

        return StreamingResponse(pieces(), media_type="text/plain")

    # -- embeddings and health -----------------------------------------------------------------

    async def embed(self, request: Request) -> Response:
        body, failure = await self._receive(request)
        if failure is not None:
            return failure
        texts = body["texts"]
        data = [{"vector": [float(len(text)), 1.0, 0.5]} for text in texts]
        return JSONResponse({"data": data, "tokens": sum(len(t.split()) for t in texts)})

    async def health(self, request: Request) -> Response:
        _, failure = await self._receive(request)
        return failure or PlainTextResponse(json.dumps({"status": "up"}))


def answer(max_len: Any) -> tuple[tuple[str, ...], str]:
    """Return the answer's words and its stop reason."""
    if isinstance(max_len, int) and max_len < len(WORDS):
        return WORDS[:max_len], "max_len"
    return WORDS, "eos"


def sse(data: dict[str, Any]) -> bytes:
    """Return one server-sent event carrying ``data`` as JSON."""
    return b"data: " + json.dumps(data).encode() + b"\n\n"


# -- the descriptions of Acme's API, one per framing ------------------------------------------

#: The body keys that steer the fake's failures: options of the API's own.
KNOBS = {"fail": "{fail}", "fail_message": "{fail_message}", "delay": "{delay}"}
STREAM_KNOBS = {**KNOBS, "drop": "{drop}", "no_done": "{no_done}"}
OPTIONS = ["fail", "fail_message", "delay", "drop", "no_done"]
STOP_REASON = {"path": "output.stop_reason", "map": {"max_len": "length"}}
#: Acme's embedding route, the same for every description.
EMBEDDING = {
    "path": "/embed",
    "body": {"texts": "{inputs}", **KNOBS},
    "vectors": "data.*.vector",
    "usage": {"prompt_tokens": "tokens"},
}

#: Prompt mode, answered at once by /v2/generate, streamed as NDJSON by /v2/stream.
NDJSON: dict[str, Any] = {
    "path": "/v2/generate/{model}",
    "body": {
        "input": "{prompt}",
        "params": {"max_len": "{max_tokens}", "temp": "{temperature}"},
        **STREAM_KNOBS,
    },
    "options": OPTIONS,
    "auth": {"header": "X-API-Key", "scheme": ""},
    "response": {
        "text": "output.text",
        "finish_reason": STOP_REASON,
        "usage": {"prompt_tokens": "meta.in", "completion_tokens": "meta.out"},
    },
    "stream": {
        "framing": "ndjson",
        "path": "/v2/stream/{model}",
        "text": "delta",
        "finish_reason": {"path": "stop_reason", "map": {"max_len": "length"}},
        "usage": {"prompt_tokens": "meta.in", "completion_tokens": "meta.out"},
        "done": {"path": "done", "equals": True},
    },
    "embedding": EMBEDDING,
    "health": {"path": "/healthz"},
}

#: Messages mode, OpenAI-like: one route, ``stream`` in the body, SSE ended by [DONE].
SSE: dict[str, Any] = {
    "path": "/v1/chat/{model}",
    "body": {
        "messages": "{messages}",
        "max_tokens": "{max_tokens}",
        "stream": "{stream}",
        **STREAM_KNOBS,
    },
    "options": OPTIONS,
    "response": {
        "text": "choices.0.message.content",
        "finish_reason": "choices.0.finish_reason",
        "usage": {
            "prompt_tokens": "usage.prompt_tokens",
            "completion_tokens": "usage.completion_tokens",
        },
    },
    "stream": {
        "framing": "sse",
        "text": "choices.0.delta.content",
        "finish_reason": "choices.0.finish_reason",
        "usage": {
            "prompt_tokens": "usage.prompt_tokens",
            "completion_tokens": "usage.completion_tokens",
        },
        "done": "[DONE]",
    },
    "embedding": EMBEDDING,
}

#: Plain text in, plain text out, streamed as chunked text.
TEXT: dict[str, Any] = {
    "path": "/v3/complete",
    "body": {"prompt": "{prompt}", "max_len": "{max_tokens}", **STREAM_KNOBS},
    "options": OPTIONS,
    "response": {"format": "text"},
    "stream": {"framing": "text"},
    "embedding": EMBEDDING,
}

#: No streaming at all: a stream is the complete answer as one chunk.
NONE: dict[str, Any] = {
    "path": "/v2/generate/{model}",
    "body": {"input": "{prompt}", "params": {"max_len": "{max_tokens}"}, **KNOBS},
    "defaults": {"delay": 0},
    "options": ["fail", "fail_message"],
    "response": {"text": "output.text", "finish_reason": STOP_REASON},
    "stream": {"framing": "none"},
    "embedding": EMBEDDING,
}
