"""The OpenAI-compatible routes, each a thin layer over the SDK's calls.

Authenticate, read and check the body once, map the public model name to its deployment,
call ``acompletion`` (or ``aembedding``, ``aimage_generation``) within the deployment's
timeout and while the client is connected, and answer with JSON or server-sent events.
Every route answers with and without the ``/v1`` prefix.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, TypeVar

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from llmctl.dispatch import acompletion, aembedding, aimage_generation
from llmctl.exceptions import BadRequestError
from llmctl.proxy.auth import KeyCheck
from llmctl.proxy.errors import answer_error, exception_handlers
from llmctl.proxy.guard import CallGuard
from llmctl.proxy.health import alive, health, readiness
from llmctl.proxy.models import Deployment, ModelMap, capabilities
from llmctl.proxy.responses import JSONBody
from llmctl.proxy.schemas import (
    ChatRequest,
    EmbeddingRequest,
    ImageRequest,
    TextCompletionRequest,
    parse_body,
)
from llmctl.proxy.shapes import embeddings_json, text_chunk_event, text_completion_json
from llmctl.proxy.sse import DONE, EventStream, encode, encode_without_usage
from llmctl.proxy.tracing import RequestIds
from llmctl.request import wants_usage

__all__ = ["ProxyState", "create_app"]

#: Threads for handlers that only have sync methods: each blocked call holds one, and the
#: event loop keeps serving everyone else meanwhile.
HANDLER_THREADS: Final = 64


@dataclass
class ProxyState:
    """What the routes need: the model map, the key check and the limits.

    :param models: the public model names and their deployments.
    :param master_key: the key every request but the probes must carry; None: no check.
    :param max_body: the largest request body accepted, in bytes.
    :param owners: the ``owned_by`` of each provider in ``/v1/models``.
    """

    models: ModelMap
    master_key: str | None = None
    max_body: int = 32 * 1024 * 1024
    owners: dict[str, str] = field(default_factory=dict)
    started: int = field(default_factory=lambda: int(time.time()))

    def __post_init__(self) -> None:
        self.check_key = KeyCheck(self.master_key) if self.master_key is not None else None


T = TypeVar("T")


def create_app(state: ProxyState, *, access_log: bool = True) -> RequestIds:
    """Return the ASGI application serving ``state``'s models."""
    routes = []
    for path, endpoint, methods in (
        ("/chat/completions", chat_completions, ["POST"]),
        ("/completions", text_completions, ["POST"]),
        ("/embeddings", embeddings, ["POST"]),
        ("/images/generations", images, ["POST"]),
        ("/models", list_models, ["GET"]),
        ("/health", health, ["GET"]),
    ):
        route = _Route(endpoint, state)
        routes.append(Route(f"/v1{path}", route, methods=methods))
        routes.append(Route(path, route, methods=methods))
    for path in ("/health/liveliness", "/health/liveness"):
        routes.append(Route(path, alive, methods=["GET"]))
    routes.append(Route("/health/readiness", readiness(state), methods=["GET"]))
    posts = {r.path: r.app for r in routes if r.methods is not None and "POST" in r.methods}
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_APIRoutes, routes=posts)],
        exception_handlers=exception_handlers,
        lifespan=_lifespan,
    )
    return RequestIds(app, access_log=access_log)


class _APIRoutes:
    """ASGI middleware: the API's POST routes found by their path, past Starlette's router.

    Starlette's exception layer and router walk cost every request about 5 us, a fifth of
    llmctl's own time (#5); the API's routes are fixed paths, one dict lookup away. Each
    answers its own errors as the application would (:class:`_Route`). Every other request
    (the GET routes, a wrong method, an unknown path, a ``root_path``) goes on to Starlette,
    and its error layer still catches what escapes either.
    """

    def __init__(self, app: ASGIApp, routes: dict[str, ASGIApp]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send an API request to its route, anything else on to Starlette."""
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            route = self.routes.get(scope["path"])
            if route is not None:
                await route(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _Route:
    """An API endpoint as a plain ASGI app, behind the master key check.

    It answers the endpoint's errors itself, with the application's handlers: Starlette
    would wrap a function endpoint in an exception layer of its own for every request (two
    closures and a ``send`` wrapper), and :class:`_APIRoutes` passes its layer by (#5).
    """

    __slots__ = ("_check", "_endpoint", "_state")

    def __init__(
        self, endpoint: Callable[[Request, ProxyState], Awaitable[Response]], state: ProxyState
    ) -> None:
        self._endpoint = endpoint
        self._state = state
        self._check = state.check_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer one request."""
        request = Request(scope, receive, send)
        try:
            if self._check is not None:
                self._check(request.headers)
            response = await self._endpoint(request, self._state)
        except Exception as exc:
            response = await answer_error(request, exc)
        await response(scope, receive, send)


@asynccontextmanager
async def _lifespan(app: Starlette) -> Any:
    # Sync-only handlers run in these threads (asyncio's default pool is 5 + cores wide).
    loop = asyncio.get_running_loop()
    loop.set_default_executor(
        ThreadPoolExecutor(HANDLER_THREADS, thread_name_prefix="llmctl-handler")
    )
    # What start-up built (config, providers, pydantic schemas) lives as long as the process:
    # keep it out of the collector's full passes, which otherwise walk it again and again.
    gc.freeze()
    yield


# -- chat and text completions ----------------------------------------------------------------


async def chat_completions(request: Request, state: ProxyState) -> Response:
    """POST /v1/chat/completions: JSON, or server-sent events with ``"stream": true``."""
    body = parse_body(ChatRequest, await read_body(request, state.max_body))
    deployment, model = state.models.resolve(body.model)
    kwargs = {**deployment.arguments, **body.params()}
    if not body.stream:
        call = acompletion(model, body.messages, **kwargs)
        response = await _guarded(request, body.model, call, deployment.timeout)
        return JSONBody(response.__pydantic_serializer__.to_json(response))
    # OpenAI sends usage only when asked for, in a chunk of its own.
    convert = encode if wants_usage(kwargs) else encode_without_usage
    call = acompletion(model, body.messages, stream=True, **kwargs)
    return await _event_stream(request, body.model, deployment, call, convert)


async def text_completions(request: Request, state: ProxyState) -> Response:
    """POST /v1/completions: the legacy API, answered by the model's chat handler."""
    body = parse_body(TextCompletionRequest, await read_body(request, state.max_body))
    deployment, model = state.models.resolve(body.model)
    kwargs = {**deployment.arguments, **body.params()}
    kwargs.pop("echo", None)
    prompts = [body.prompt] if isinstance(body.prompt, str) else body.prompt
    if body.stream:
        if len(prompts) != 1:
            raise BadRequestError(
                "a streamed /completions request takes one prompt; send the others separately",
                param="prompt",
            )
        messages = [{"role": "user", "content": prompts[0]}]
        call = acompletion(model, messages, stream=True, **kwargs)
        convert = partial(text_chunk_event, include_usage=wants_usage(kwargs))
        return await _event_stream(request, body.model, deployment, call, convert)
    calls = [acompletion(model, [{"role": "user", "content": p}], **kwargs) for p in prompts]
    answers = await _guarded(request, body.model, asyncio.gather(*calls), deployment.timeout)
    return JSONBody(text_completion_json(answers, prompts, body.echo))


async def _guarded(request: Request, model: str, call: Awaitable[T], timeout: float) -> T:
    """Await a handler's call within ``timeout`` seconds while the client is connected."""
    guard = CallGuard(request.receive, model)
    # guard.wait() inlined: its coroutine would cost every request about 0.4 µs (#5).
    guard.begin(timeout)
    try:
        return await call
    except asyncio.CancelledError as cancelled:
        guard.raise_failure(cancelled)
    finally:
        guard.close()


async def _event_stream(
    request: Request,
    model: str,
    deployment: Deployment,
    call: Any,
    convert: Callable[[Any], bytes],
) -> Response:
    """Start a stream once its first chunk is ready: until then an error has its status."""
    guard = CallGuard(request.receive, model)
    timeout = deployment.stream_timeout
    stream = None
    try:
        stream = await guard.wait(call, timeout)
        chunks = aiter(stream)
        try:
            first = convert(await guard.wait(anext(chunks), timeout))
        except StopAsyncIteration:
            first = b""
    except BaseException:
        guard.close()
        if stream is not None:
            await stream.aclose()
        raise
    if not first:
        guard.close()
        return Response(DONE, media_type="text/event-stream")
    return EventStream(first, chunks, convert, guard=guard, timeout=timeout, close=stream.aclose)


# -- embeddings and images --------------------------------------------------------------------


async def embeddings(request: Request, state: ProxyState) -> Response:
    """POST /v1/embeddings: vectors as floats, or as base64 (the ``openai`` SDK's default)."""
    body = parse_body(EmbeddingRequest, await read_body(request, state.max_body))
    deployment, model = state.models.resolve(body.model)
    params = body.params()
    params.pop("encoding_format", None)  # llmctl encodes; the handler returns floats
    call = aembedding(model, body.input, **{**deployment.arguments, **params})
    response = await _guarded(request, body.model, call, deployment.timeout)
    return JSONBody(embeddings_json(response, body.encoding_format))


async def images(request: Request, state: ProxyState) -> Response:
    """POST /v1/images/generations."""
    body = parse_body(ImageRequest, await read_body(request, state.max_body))
    deployment, model = state.models.resolve(body.model)
    call = aimage_generation(body.prompt, model, **{**deployment.arguments, **body.params()})
    response = await _guarded(request, body.model, call, deployment.timeout)
    return JSONBody(response.model_dump_json(exclude_none=True).encode())


# -- models and health ------------------------------------------------------------------------


async def list_models(request: Request, state: ProxyState) -> Response:
    """GET /v1/models: every served name, owned by its provider's distribution."""
    data = []
    for deployment in state.models.deployments:
        for provider in deployment.providers():
            name = deployment.model_name
            if deployment.provider is None:
                name = f"{provider}/*"
            data.append(
                {
                    "id": name,
                    "object": "model",
                    "created": state.started,
                    "owned_by": state.owners.get(provider, provider),
                    "provider": provider,
                    "capabilities": capabilities(provider),
                }
            )
    return JSONBody(json.dumps({"object": "list", "data": data}).encode())


# -- plumbing ---------------------------------------------------------------------------------


async def read_body(request: Request, limit: int) -> bytes:
    """Return the request body, refusing one larger than ``limit`` bytes (413).

    :raises BadRequestError: the body (or its declared length) exceeds the limit.
    """
    for name, value in request.scope["headers"]:  # cheaper than building request.headers
        if name == b"content-length":
            if value.isdigit() and int(value) > limit:
                raise _too_large(limit)
            break
    # Straight from ASGI receive: one message holds most bodies.
    receive = request.receive
    message = await receive()
    body = message.get("body", b"")
    if not message.get("more_body", False):
        return body  # type: ignore[no-any-return]
    parts = [body]
    size = len(body)
    while message.get("more_body", False):
        message = await receive()
        part = message.get("body", b"")
        size += len(part)
        if size > limit:
            raise _too_large(limit)
        parts.append(part)
    return b"".join(parts)


def _too_large(limit: int) -> BadRequestError:
    return BadRequestError(
        f"the request body is larger than this server accepts ({limit / 2**20:g} MiB); "
        "send less, or raise general_settings.max_request_size_mb in config.yaml",
        status_code=413,
        code="request_too_large",
    )
