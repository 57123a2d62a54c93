"""A fast fake OpenAI-compatible backend: prebuilt replies to ``POST /v1/chat/completions``.

The runner starts it in a process of its own (so it never shares the clients' GIL), one worker
on 127.0.0.1, as the proxy benchmark runs its servers::

    python -m uvicorn benchmarks.backends.fake_server:app --http httptools --loop uvloop \
        --no-access-log --workers 1 --timeout-keep-alive 600 --host 127.0.0.1 --port 8000

It parses the request's JSON body, as any backend must, and answers with bytes built once at
import: a ``chat.completion`` for a plain request; for ``"stream": true``, the server-sent
events of a stream whose length the model names (``m20``: 20 ``chat.completion.chunk`` events
of :data:`~benchmarks.backends.config.CHUNK_TEXT`, the last one finishing), then a usage event
(no choices, as OpenAI sends with ``stream_options.include_usage``) and ``data: [DONE]``. Each
event is one write, as a backend producing tokens sends them. ``GET /stats`` counts the
requests answered, for the runner's checks.
"""

from __future__ import annotations

import json
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from benchmarks.backends.config import (
    CHUNK_TEXT,
    FULL,
    JSON_MODEL,
    QUICK,
    TEXT,
    stream_model,
)

_ID: Final = "chatcmpl-fake-0000000000000000"
_CREATED: Final = 1_700_000_000
_USAGE: Final = {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}
_STREAM_HEADERS: Final = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
]


def _dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _event(value: object) -> bytes:
    return b"data: " + (value if isinstance(value, bytes) else _dumps(value)) + b"\n\n"


def json_body() -> bytes:
    """Return the ``chat.completion`` every plain request gets."""
    return _dumps(
        {
            "id": _ID,
            "object": "chat.completion",
            "created": _CREATED,
            "model": JSON_MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": TEXT},
                    "finish_reason": "stop",
                }
            ],
            "usage": _USAGE,
        }
    )


def stream_events(chunks: int) -> list[bytes]:
    """Return the events of a stream of ``chunks`` content chunks, ``[DONE]`` last."""
    model = stream_model(chunks)
    events = []
    for i in range(chunks):
        delta: dict[str, Any] = {"content": CHUNK_TEXT}
        if i == 0:
            delta = {"role": "assistant", **delta}
        choice = {"index": 0, "delta": delta, "finish_reason": "stop" if i == chunks - 1 else None}
        chunk = {
            "id": _ID,
            "object": "chat.completion.chunk",
            "created": _CREATED,
            "model": model,
            "choices": [choice],
        }
        events.append(_event(chunk))
    usage = {
        "id": _ID,
        "object": "chat.completion.chunk",
        "created": _CREATED,
        "model": model,
        "choices": [],
        "usage": _USAGE,
    }
    events.append(_event(usage))
    events.append(_event(b"[DONE]"))
    return events


JSON_BODY: Final = json_body()
#: The events of each stream, by the model that asks for it.
STREAMS: Final = {
    stream_model(n): stream_events(n) for n in {*FULL.stream_chunks, *QUICK.stream_chunks}
}
_counts = {"json": 0, "stream": 0}


class EventStream(Response):
    """Send prebuilt events, one write each, and nothing else (no disconnect watcher)."""

    def __init__(self, events: list[bytes]) -> None:
        self.events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": _STREAM_HEADERS})
        for event in self.events:
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def chat_completions(request: Request) -> Response:
    """POST /v1/chat/completions: the prebuilt reply, streamed when the body asks for it."""
    body = json.loads(await request.body())
    if not body.get("stream"):
        _counts["json"] += 1
        return Response(JSON_BODY, media_type="application/json")
    events = STREAMS.get(body.get("model"))
    if events is None:
        error = {"error": {"message": f"no stream for model {body.get('model')!r}"}}
        return Response(_dumps(error), status_code=404, media_type="application/json")
    _counts["stream"] += 1
    return EventStream(events)


async def readiness(request: Request) -> Response:
    """GET /health/readiness: the server is up."""
    return Response(b'{"status":"healthy"}', media_type="application/json")


async def stats(request: Request) -> Response:
    """GET /stats: requests answered so far, by kind."""
    return Response(_dumps(_counts), media_type="application/json")


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/health/readiness", readiness, methods=["GET"]),
        Route("/stats", stats, methods=["GET"]),
    ]
)
