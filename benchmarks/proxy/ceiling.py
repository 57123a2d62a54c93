"""The ceiling: a bare Starlette app that answers chat completions from prebuilt bytes.

It does what any proxy must (read and parse the JSON body, pick the reply by ``"stream"``) and
nothing else: no config, no routing, no handler, no models. Run it as the proxies are run::

    uvicorn --app-dir benchmarks/proxy ceiling:app --http httptools --loop uvloop \
        --no-access-log --workers 1 --host 127.0.0.1 --port 8000

Its bodies are built once, at import. The runner captures llmctl's reply to the benchmark's
requests and passes the files in ``BENCH_CEILING_JSON`` and ``BENCH_CEILING_STREAM``, so the
ceiling sends the same bytes as llmctl; without them it builds the same shapes itself (OpenAI's
``chat.completion`` and 20 ``chat.completion.chunk`` events, then ``data: [DONE]``). A stream
is sent one event per write, as a proxy relaying a backend does.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

_ID = "chatcmpl-00000000-0000-0000-0000-000000000000"
_CREATED = 1_700_000_000
_MESSAGE = {"role": "assistant", "tool_calls": None, "function_call": None}
_USAGE = {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}
_STREAM_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _default_json() -> bytes:
    message = {"content": "Hello from the benchmark handler", **_MESSAGE}
    return _dumps(
        {
            "id": _ID,
            "choices": [{"finish_reason": "stop", "index": 0, "message": message}],
            "created": _CREATED,
            "model": "m",
            "object": "chat.completion",
            "system_fingerprint": None,
            "usage": _USAGE,
        }
    )


def _chunk(content: str | None, *, first: bool, finish: str | None) -> bytes:
    role = "assistant" if first else None
    delta = {"content": content, "role": role, "tool_calls": None, "function_call": None}
    chunk = {
        "id": _ID,
        "created": _CREATED,
        "model": "m",
        "object": "chat.completion.chunk",
        "system_fingerprint": None,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        "usage": None,
    }
    return b"data: " + _dumps(chunk) + b"\n\n"


def _default_stream() -> bytes:
    events = [_chunk("tok ", first=i == 0, finish=None) for i in range(20)]
    events.append(_chunk(None, first=False, finish="stop"))
    return b"".join([*events, b"data: [DONE]\n\n"])


def _load(variable: str, default: bytes) -> bytes:
    path = os.environ.get(variable)
    return Path(path).read_bytes() if path else default


JSON_BODY = _load("BENCH_CEILING_JSON", _default_json())
#: The stream's server-sent events, each ending in a blank line.
STREAM_EVENTS = [
    event + b"\n\n"
    for event in _load("BENCH_CEILING_STREAM", _default_stream()).split(b"\n\n")
    if event
]
READY_BODY = b'{"status":"healthy"}'


async def _events() -> AsyncIterator[bytes]:
    for event in STREAM_EVENTS:
        yield event


async def chat_completions(request: Request) -> Response:
    """POST /v1/chat/completions: the prebuilt reply, streamed when the body asks for it."""
    body = json.loads(await request.body())
    if body.get("stream"):
        return StreamingResponse(_events(), media_type="text/event-stream", headers=_STREAM_HEADERS)
    return Response(JSON_BODY, media_type="application/json")


async def readiness(request: Request) -> Response:
    """GET /health/readiness: the server is up."""
    return Response(READY_BODY, media_type="application/json")


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/chat/completions", chat_completions, methods=["POST"]),
        Route("/health/readiness", readiness, methods=["GET"]),
    ]
)
