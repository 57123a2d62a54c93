"""A fake TorchServe inference API, serving a few text-generation handlers.

Written from TorchServe's documentation and frontend source:

- Inference API (https://pytorch.org/serve/inference_api.html, pytorch/serve
  docs/inference_api.md): ``GET /ping`` answers ``{"status": "Healthy"}`` (HTTP 500 and
  ``"Unhealthy"`` when a model has fewer workers than its minWorkers); ``POST
  /predictions/{model_name}`` and ``/predictions/{model_name}/{version}``; "Streaming
  response via HTTP 1.1 chunked encoding": each ``send_intermediate_predict_response`` of the
  handler is one chunk, the returned value the last, with no end marker.
- Token authorization (https://pytorch.org/serve/token_authorization_api.html):
  ``Authorization: Bearer <inference key>``; a wrong or missing key is an
  ``InvalidKeyException``, which the frontend's ``HttpRequestHandler`` answers with HTTP 400
  ("Token Authentication failed. Token either incorrect, expired, or not provided
  correctly").
- Errors (frontend ``NettyUtils.sendError`` and ``ErrorResponse``): ``{"code": <status>,
  "type": "<exception class>", "message": "..."}``, pretty-printed; ``ModelNotFoundException``
  ("Model not found: <name>") and ``ModelVersionNotFoundException`` are 404; a handler's
  ``PredictionException(message, status)`` comes back (``RestJob.sendError``) as that status
  with type ``InternalServerException``.
- What a handler returns: a ``str`` is sent as its UTF-8 bytes (no content type), a ``dict``
  or ``list`` as indented JSON.

Models (each a handler a user might write): ``llama`` (versions 1.0, the default, and 2.0)
answers plain text, streamed a word per chunk when the body says ``"stream": true``; ``hf``
answers ``[{"generated_text": ...}]`` as a Hugging Face pipeline does; ``nested`` answers
``{"outputs": [{"text": ...}]}``; ``vllm`` answers as TorchServe's own ``vllm_handler.py``:
always streamed, each piece ``json.dumps({"text": <delta>, "tokens": <id>})``, the last one
returned rather than sent. Keys of the body the handlers read, to steer failures:
``fake_status`` (fail with that status), ``fake_delay`` (seconds before answering),
``fake_stream`` (``drop``: close the connection after two pieces; ``pause``: wait a second
after the first; ``always``: stream even when not asked).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

#: What every handler answers (version 2.0 of ``llama`` says so).
ANSWER = "Hello there, general Kenobi."
ANSWER_V2 = "Hello from version 2.0."
#: Versions of ``llama``; the first is the default.
VERSIONS = ("1.0", "2.0")
MODELS = ("llama", "hf", "nested", "vllm")
TOKEN_FAILED = (
    "Token Authentication failed. Token either incorrect, expired, or not provided correctly"
)


@dataclass
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeTorchServe:
    """The fake's state: what it received, the inference key it asks for, its health."""

    requests: list[Recorded] = field(default_factory=list)
    #: The inference key every request must carry; None: token authorization disabled.
    key: str | None = None
    #: What ``/ping`` answers: ``(HTTP status, status text)``.
    health: tuple[int, str] = (200, "Healthy")

    @property
    def last(self) -> Recorded:
        return self.requests[-1]

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/ping", self.ping, methods=["GET"]),
                Route("/predictions/{model}", self.predict, methods=["POST"]),
                Route("/predictions/{model}/{version}", self.predict, methods=["POST"]),
            ]
        )

    async def ping(self, request: Request) -> Response:
        await self._record(request)
        if (refused := self._refuse_token(request)) is not None:
            return refused
        status, text = self.health
        return _json({"status": text}, status)

    async def predict(self, request: Request) -> Response:
        body = await self._record(request)
        if (refused := self._refuse_token(request)) is not None:
            return refused
        model = request.path_params["model"]
        version = request.path_params.get("version")
        if model not in MODELS:
            return _error(404, "ModelNotFoundException", f"Model not found: {model}")
        if version is not None and (model != "llama" or version not in VERSIONS):
            return _error(
                404,
                "ModelVersionNotFoundException",
                f"Model version: {version} does not exist for model: {model}",
            )
        if not isinstance(body, dict):
            return _error(503, "InternalServerException", "Prediction failed")
        if delay := body.get("fake_delay"):
            await asyncio.sleep(delay)
        if status := body.get("fake_status"):
            return _error(status, "InternalServerException", f"the handler failed with {status}")
        text = ANSWER_V2 if version == "2.0" else ANSWER
        how = body.get("fake_stream")
        if model == "llama" and (body.get("stream") is True or how is not None):
            return StreamingResponse(_pieces(text, how))
        if model == "vllm":
            return StreamingResponse(_json_pieces(text))
        if model == "hf":
            return _json([{"generated_text": text}])
        if model == "nested":
            return _json({"outputs": [{"text": text, "tokens": len(text.split())}]})
        return Response(text.encode())

    async def _record(self, request: Request) -> Any:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        self.requests.append(
            Recorded(request.method, request.url.path, dict(request.headers), body)
        )
        return body

    def _refuse_token(self, request: Request) -> Response | None:
        if self.key is None or request.headers.get("authorization") == f"Bearer {self.key}":
            return None
        return _error(400, "InvalidKeyException", TOKEN_FAILED)


async def _pieces(text: str, how: str | None) -> AsyncIterator[bytes]:
    """The handler's ``send_intermediate_predict_response`` calls: a word per chunk."""
    words = text.split(" ")
    for n, word in enumerate(words):
        if n == 2 and how == "drop":
            raise ConnectionResetError("the fake handler drops the connection, as asked")
        yield (word if n == 0 else " " + word).encode()
        if n == 0 and how == "pause":
            await asyncio.sleep(1.0)
        await asyncio.sleep(0.005)  # each piece its own chunk, as a model's tokens come


async def _json_pieces(text: str) -> AsyncIterator[bytes]:
    """``vllm_handler.py``: ``{"text", "tokens"}`` per piece, compact, with no separator."""
    words = text.split(" ")
    for n, word in enumerate(words):
        yield json.dumps({"text": word if n == 0 else " " + word, "tokens": 100 + n}).encode()
        await asyncio.sleep(0.005)


def _json(data: Any, status: int = 200) -> Response:
    # TorchServe pretty-prints its JSON, with a newline last.
    text = json.dumps(data, indent=2) + "\n"
    return Response(text.encode(), status_code=status, media_type="application/json")


def _error(status: int, kind: str, message: str) -> Response:
    return _json({"code": status, "type": kind, "message": message}, status)
