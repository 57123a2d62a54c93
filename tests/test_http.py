"""``llmctl.http``: requests, error mapping, streams and the client pool, over real sockets.

Every test talks to a fake backend (a Starlette app on a :class:`LoopbackServer`) that can
echo what it received, fail with any status and body shape, stream SSE, NDJSON or text,
stall, and drop the connection mid-answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import random
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from llmctl.exceptions import (
    APIConnectionError,
    AuthenticationError,
    BadGatewayError,
    BadRequestError,
    ContextWindowExceededError,
    InternalServerError,
    LLMCtlError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServiceUnavailableError,
    Timeout,
    UnprocessableEntityError,
)
from llmctl.http import (
    TRANSPORT_ERRORS,
    Endpoint,
    ServerSentEvent,
    aclose_clients,
    close_clients,
)
from llmctl.request import DEFAULT_TIMEOUT
from llmctl.testserver import LoopbackServer

# -- the fake backend ---------------------------------------------------------------------------

SAID = "model 'm1' not found, try llama3"

#: Error bodies as each kind of backend shapes them, all saying SAID.
ERROR_BODIES: dict[str, Callable[[int], Response]] = {
    "openai": lambda code: JSONResponse(
        {"error": {"message": SAID, "type": "invalid_request_error", "code": None}}, code
    ),
    "vllm": lambda code: JSONResponse(
        {"object": "error", "message": SAID, "type": "NotFoundError", "code": code}, code
    ),
    "ollama": lambda code: JSONResponse({"error": SAID}, code),
    "torchserve": lambda code: JSONResponse(
        {"code": code, "type": "ModelNotFoundException", "message": SAID}, code
    ),
    "fastapi": lambda code: JSONResponse({"detail": SAID}, code),
    "text": lambda code: PlainTextResponse(f"  {SAID}\n", code),
}

CHAT_EVENTS = (
    b'data: {"n": 1}\n\n'
    b": keep-alive comment\n\n"
    b"event: progress\nid: 7\ndata: line one\ndata: line two\n\n"
    b'data: {"n": 2}\r\n\r\n'
)


class Backend:
    """The fake backend: its app, and what it saw (read by the tests from their thread)."""

    def __init__(self) -> None:
        self.url = ""
        #: The client port of every request, in order: one port, one connection.
        self.ports: list[int] = []
        #: The tags of the endless streams that ended: only a client going away ends one.
        self._abandoned: set[str] = set()
        self._abandoning = threading.Condition()

    def saw(self, scope: Scope) -> None:
        self.ports.append(scope["client"][1])

    def abandoned(self, tag: str) -> bool:
        """Wait until the endless stream ``tag`` ends; False if it has not in 5 seconds."""
        with self._abandoning:
            return self._abandoning.wait_for(lambda: tag in self._abandoned, timeout=5)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/status/{code:int}", self.status, methods=["GET", "POST"]),
                Route("/redirect", self.redirect, methods=["POST"]),
                Route("/not-json", self.not_json, methods=["POST"]),
                Route("/slow", self.slow, methods=["POST"]),
                Route("/drop", _Dropping(self, b'{"choices": [', b"")),
                Route("/sse/chat", self.sse_chat, methods=["POST"]),
                Route("/sse/headers", self.sse_headers, methods=["POST"]),
                Route("/sse/json", self.sse_json, methods=["POST"]),
                Route("/sse/utf8", self.sse_utf8, methods=["POST"]),
                Route("/sse/endless", self.endless, methods=["POST"]),
                Route("/sse/stall", self.stall, methods=["POST"]),
                Route("/sse/drop", _Dropping(self, b'data: {"n": 1}\n\n', b"text/event-stream")),
                Route("/ndjson/{case}", self.ndjson, methods=["POST"]),
                Route("/ndjson-drop", _Dropping(self, b'{"n": 1}\n', b"application/x-ndjson")),
                Route("/text", self.text, methods=["POST"]),
                Route("/text-drop", _Dropping(self, b"Hello, ", b"text/plain")),
                Route("/{path:path}", self.echo, methods=["GET", "POST", "PUT", "DELETE"]),
            ]
        )

    async def echo(self, request: Request) -> Response:
        self.saw(request.scope)
        body = await request.body()
        return JSONResponse(
            {
                "method": request.method,
                "path": request.url.path,
                "query": request.url.query,
                "headers": dict(request.headers),
                "json": json.loads(body) if body else None,
                "port": request.scope["client"][1],
            }
        )

    async def status(self, request: Request) -> Response:
        self.saw(request.scope)
        code = request.path_params["code"]
        shape = request.query_params.get("shape", "openai")
        if shape in ERROR_BODIES:
            response = ERROR_BODIES[shape](code)
        elif shape == "said":  # the wording given in the query
            response = JSONResponse({"error": {"message": request.query_params["said"]}}, code)
        elif shape == "fastapi-validation":
            response = JSONResponse(
                {"detail": [{"loc": ["body", "messages"], "msg": "Field required"}]}, code
            )
        elif shape == "huge":
            response = PlainTextResponse("x" * 100_000, code)
        else:  # empty
            response = Response(b"", code)
        if "retry_after" in request.query_params:
            response.headers["Retry-After"] = request.query_params["retry_after"]
        return response

    async def redirect(self, request: Request) -> Response:
        return Response(status_code=307, headers={"Location": "https://llm.example/v1/chat"})

    async def not_json(self, request: Request) -> Response:
        body = request.query_params.get("body", "<html><body>502 Bad Gateway</body></html>")
        return PlainTextResponse(body, media_type="text/html")

    async def slow(self, request: Request) -> Response:
        await asyncio.sleep(2)
        return JSONResponse({"late": True})

    async def sse_chat(self, request: Request) -> Response:
        self.saw(request.scope)
        done = request.query_params.get("done", "yes") == "yes"

        async def events() -> AsyncIterator[bytes]:
            yield CHAT_EVENTS
            if done:
                yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def sse_headers(self, request: Request) -> Response:
        async def events() -> AsyncIterator[bytes]:
            yield f"data: {json.dumps(dict(request.headers))}\n\ndata: [DONE]\n\n".encode()

        return StreamingResponse(events(), media_type="text/event-stream")

    async def sse_utf8(self, request: Request) -> Response:
        body = 'data: {"t": "d\u00e9j\u00e0 \u20ac"}\n\ndata: [DONE]\n\n'.encode()
        cut = body.index("\u20ac".encode()) + 1

        async def events() -> AsyncIterator[bytes]:
            yield body[:cut]  # the euro sign's first byte of three
            await asyncio.sleep(0.01)
            yield body[cut:]

        # A wrong charset: an event stream is UTF-8 whatever its header says.
        return StreamingResponse(events(), media_type="text/event-stream; charset=iso-8859-1")

    async def sse_json(self, request: Request) -> Response:
        return JSONResponse({"id": "chatcmpl-1", "choices": []})

    async def endless(self, request: Request) -> Response:
        tag = request.query_params.get("tag", "")

        async def events() -> AsyncIterator[bytes]:
            try:
                n = 0
                while True:
                    n += 1
                    yield f'data: {{"n": {n}}}\n\n'.encode()
                    await asyncio.sleep(0.01)
            finally:
                with self._abandoning:
                    self._abandoned.add(tag)
                    self._abandoning.notify_all()

        return StreamingResponse(events(), media_type="text/event-stream")

    async def stall(self, request: Request) -> Response:
        async def events() -> AsyncIterator[bytes]:
            yield b'data: {"n": 1}\n\n'
            await asyncio.sleep(2)
            yield b"data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def ndjson(self, request: Request) -> Response:
        self.saw(request.scope)
        lines = {
            "done": [b'{"n": 1}\n', b"\n", b'{"n": 2}\r\n  \n{"n": 3, "done": true}\n'],
            "no-done": [b'{"n": 1}\n', b'{"n": 2}\n'],
            "bad": [b'{"n": 1}\n', b"<html>oops</html>\n", b'{"n": 3, "done": true}\n'],
            "null": [b"null\n", b"[1, 2]\n", b'"done"\n'],
        }[request.path_params["case"]]

        async def body() -> AsyncIterator[bytes]:
            for line in lines:
                yield line

        return StreamingResponse(body(), media_type="application/x-ndjson")

    async def text(self, request: Request) -> Response:
        async def body() -> AsyncIterator[bytes]:
            yield b"Hello, "
            yield b"w\xc3"  # the first byte of "\u00f6" ...
            yield b"\xb6rld!"  # ... and the second, in the next chunk

        return StreamingResponse(body(), media_type="text/plain; charset=utf-8")


class _Dropping:
    """A raw ASGI endpoint that sends the start of an answer, then drops the connection."""

    def __init__(self, backend: Backend, first: bytes, content_type: bytes) -> None:
        self.backend = backend
        self.first = first
        self.content_type = content_type

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.backend.saw(scope)
        headers = [(b"content-type", self.content_type or b"application/json")]
        if not self.content_type:  # a whole body announced, a part sent
            headers.append((b"content-length", b"1000"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": self.first, "more_body": True})
        # returning now, the answer unfinished, makes uvicorn close the connection


@pytest.fixture(scope="module")
def backend() -> Iterator[Backend]:
    fake = Backend()
    with LoopbackServer(fake.app()) as server:
        fake.url = server.url
        yield fake


@pytest.fixture(autouse=True)
def _fresh_pool() -> Iterator[None]:
    """Each test starts with no pooled sync client, so its connections are its own."""
    close_clients()
    yield
    close_clients()


@pytest.fixture
def unraisable(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """What was reported while being collected (an unclosed socket's ResourceWarning, say)."""
    seen: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    return seen


@pytest.fixture
def refused_url() -> str:
    """The address of a port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def acme(api_base: str, **kwargs: Any) -> Endpoint:
    return Endpoint.from_call("acme", model="m1", api_base=api_base, **kwargs)


KINDS = [pytest.param("sync", id="sync"), pytest.param("async", id="async")]


def send(endpoint: Endpoint, kind: str, method: str, path: str, **kwargs: Any) -> Any:
    if kind == "async":
        return asyncio.run(endpoint.asend(method, path, **kwargs))
    return endpoint.send(method, path, **kwargs)


def read(stream: Any, into: list[Any] | None = None) -> list[Any]:
    """Read a sync or async stream to its end (in a loop of its own); items land in ``into``."""
    items = [] if into is None else into
    if hasattr(stream, "__aiter__"):

        async def collect() -> None:
            async with contextlib.aclosing(stream):
                async for item in stream:
                    items.append(item)

        asyncio.run(collect())
    else:
        items.extend(stream)
    return items


def stream(endpoint: Endpoint, kind: str, name: str, path: str, **kwargs: Any) -> Any:
    """``endpoint.stream_<name>`` or ``astream_<name>`` for ``POST path``."""
    prefix = "astream_" if kind == "async" else "stream_"
    return getattr(endpoint, prefix + name)("POST", path, **kwargs)


# -- where a call goes, and with what -----------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_send_posts_json_and_returns_the_decoded_answer(backend: Backend, kind: str) -> None:
    answer = send(acme(backend.url), kind, "POST", "/v1/chat", json={"messages": ["hi"]})
    assert answer["method"] == "POST"
    assert answer["path"] == "/v1/chat"
    assert answer["json"] == {"messages": ["hi"]}
    assert answer["headers"]["content-type"] == "application/json"


def test_a_get_without_json_sends_no_body(backend: Backend) -> None:
    answer = acme(backend.url).send("GET", "api/tags?verbose=1")
    assert (answer["method"], answer["path"], answer["query"]) == ("GET", "/api/tags", "verbose=1")
    assert answer["json"] is None
    assert "content-type" not in answer["headers"]


@pytest.mark.parametrize("base", ["{url}/v1", "{url}/v1/", "{url}/v1//"])
@pytest.mark.parametrize("path", ["chat/completions", "/chat/completions"])
def test_path_joins_the_base_with_one_slash(backend: Backend, base: str, path: str) -> None:
    endpoint = acme(base.format(url=backend.url))
    assert endpoint.base_url == f"{backend.url}/v1"
    assert endpoint.url(path) == f"{backend.url}/v1/chat/completions"
    assert endpoint.send("POST", path)["path"] == "/v1/chat/completions"


def test_api_key_is_sent_as_bearer_auth(backend: Backend) -> None:
    headers = acme(backend.url, api_key="sk-123").send("GET", "models")["headers"]
    assert headers["authorization"] == "Bearer sk-123"


def test_no_key_sends_no_authorization(backend: Backend) -> None:
    assert "authorization" not in acme(backend.url).send("GET", "models")["headers"]


def test_auth_callable_decides_how_the_key_is_sent(backend: Backend) -> None:
    endpoint = acme(backend.url, api_key="ts-token", auth=lambda key: {"X-Api-Key": key})
    headers = endpoint.send("GET", "models")["headers"]
    assert headers["x-api-key"] == "ts-token"
    assert "authorization" not in headers


def test_the_calls_headers_are_sent_and_win_over_auth(backend: Backend) -> None:
    endpoint = acme(
        backend.url, api_key="sk-123", headers={"Authorization": "Token abc", "X-Trace": "t1"}
    )
    headers = endpoint.send("GET", "models")["headers"]
    assert headers["authorization"] == "Token abc"
    assert headers["x-trace"] == "t1"


def test_environment_gives_base_and_key_the_call_leaves_out(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_API_BASE", backend.url + "/")
    monkeypatch.setenv("ACME_API_KEY", "sk-env")
    endpoint = Endpoint.from_call("acme", base_env="ACME_API_BASE", key_env="ACME_API_KEY")
    assert endpoint.base_url == backend.url
    assert endpoint.send("GET", "x")["headers"]["authorization"] == "Bearer sk-env"


def test_the_calls_base_and_key_beat_the_environment(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACME_API_BASE", "http://127.0.0.1:9")
    monkeypatch.setenv("ACME_API_KEY", "sk-env")
    endpoint = acme(
        backend.url, api_key="sk-call", base_env="ACME_API_BASE", key_env="ACME_API_KEY"
    )
    assert endpoint.base_url == backend.url
    assert endpoint.send("GET", "x")["headers"]["authorization"] == "Bearer sk-call"


def test_default_base_is_the_last_resort(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACME_API_BASE", raising=False)
    endpoint = Endpoint.from_call(
        "acme", base_env="ACME_API_BASE", default_base="http://127.0.0.1:11434/"
    )
    assert endpoint.base_url == "http://127.0.0.1:11434"
    monkeypatch.setenv("ACME_API_BASE", "http://10.0.0.2:11434")
    assert Endpoint.from_call("acme", base_env="ACME_API_BASE", default_base="x").base_url == (
        "http://10.0.0.2:11434"
    )


def test_no_address_anywhere_says_where_to_give_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACME_API_BASE", raising=False)
    with pytest.raises(BadRequestError) as caught:
        Endpoint.from_call("acme", model="m1", base_env="ACME_API_BASE")
    assert str(caught.value) == (
        "acme needs the address of its server: pass api_base='http://host:port', set "
        "ACME_API_BASE, or set api_base in the model's litellm_params in config.yaml "
        "(provider 'acme', model 'm1')"
    )


def test_no_address_and_no_variable_names_the_other_ways() -> None:
    with pytest.raises(BadRequestError, match=r"pass api_base='http://host:port', or set api_base"):
        Endpoint.from_call("acme")


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        pytest.param(None, DEFAULT_TIMEOUT, id="none-is-the-default"),
        pytest.param(5, 5.0, id="int"),
        pytest.param(0.25, 0.25, id="float"),
        pytest.param("30", 30.0, id="numeric-string"),
        pytest.param(httpx.Timeout(3.0, connect=1.0), httpx.Timeout(3.0, connect=1.0), id="httpx"),
    ],
)
def test_timeout_is_taken_from_the_call(given: Any, kept: Any) -> None:
    assert acme("http://127.0.0.1:1", timeout=given).timeout == kept


@pytest.mark.parametrize(
    "timeout",
    [
        pytest.param(0, id="zero"),
        pytest.param(-1.5, id="negative"),
        pytest.param("soon", id="words"),
        pytest.param(True, id="bool"),
        pytest.param([10], id="list"),
    ],
)
def test_an_invalid_timeout_is_a_bad_request(timeout: Any) -> None:
    with pytest.raises(BadRequestError) as caught:
        acme("http://127.0.0.1:1", timeout=timeout)
    assert caught.value.param == "timeout"
    assert f"timeout must be a positive number of seconds or an httpx.Timeout, got {timeout!r}" in (
        str(caught.value)
    )


# -- error statuses -----------------------------------------------------------------------------

STATUSES = [
    pytest.param(400, BadRequestError, id="400"),
    pytest.param(401, AuthenticationError, id="401"),
    pytest.param(403, PermissionDeniedError, id="403"),
    pytest.param(404, NotFoundError, id="404"),
    pytest.param(408, Timeout, id="408"),
    pytest.param(418, BadRequestError, id="418-another-4xx"),
    pytest.param(422, UnprocessableEntityError, id="422"),
    pytest.param(429, RateLimitError, id="429"),
    pytest.param(500, InternalServerError, id="500"),
    pytest.param(502, BadGatewayError, id="502"),
    pytest.param(503, ServiceUnavailableError, id="503"),
    pytest.param(504, Timeout, id="504"),
]


@pytest.mark.parametrize(("status", "error"), STATUSES)
def test_each_error_status_is_its_class_keeping_status_and_message(
    backend: Backend, status: int, error: type[LLMCtlError]
) -> None:
    with pytest.raises(error) as caught:
        acme(backend.url).send("POST", f"status/{status}")
    assert type(caught.value) is error
    assert caught.value.status_code == status
    assert (caught.value.llm_provider, caught.value.model) == ("acme", "m1")
    assert caught.value.message == (
        f"acme answered HTTP {status} to POST {backend.url}/status/{status}: {SAID}"
    )
    assert caught.value.retry_after is None


@pytest.mark.parametrize("shape", [*ERROR_BODIES])
def test_the_backends_own_message_is_kept_from_each_body_shape(
    backend: Backend, shape: str
) -> None:
    with pytest.raises(NotFoundError) as caught:
        acme(backend.url).send("POST", f"status/404?shape={shape}")
    assert caught.value.message.endswith(f": {SAID}")


def test_a_structured_detail_is_quoted_as_json(backend: Backend) -> None:
    with pytest.raises(UnprocessableEntityError) as caught:
        acme(backend.url).send("POST", "status/422?shape=fastapi-validation")
    assert caught.value.message.endswith(
        ': [{"loc": ["body", "messages"], "msg": "Field required"}]'
    )


def test_an_empty_error_body_gives_the_reason_phrase(backend: Backend) -> None:
    with pytest.raises(ServiceUnavailableError) as caught:
        acme(backend.url).send("POST", "status/503?shape=empty")
    assert caught.value.message.endswith(": Service Unavailable")


def test_a_huge_error_body_is_cut_to_500_characters(backend: Backend) -> None:
    with pytest.raises(InternalServerError) as caught:
        acme(backend.url).send("POST", "status/500?shape=huge")
    said = caught.value.message.split(": ", 1)[1]
    assert said == "x" * 500 + "..."


@pytest.mark.parametrize(
    "said",
    [
        pytest.param(
            "This model's maximum context length is 4096 tokens. However, you requested 5000",
            id="openai-vllm",
        ),
        pytest.param(
            "the request exceeds the available context size, try increasing it", id="llama.cpp"
        ),
        pytest.param("prompt is too long: 210000 tokens > 200000 maximum", id="anthropic"),
        pytest.param("Input is too long: too many tokens for the Context Window", id="mixed-case"),
    ],
)
def test_a_400_about_context_length_is_context_window_exceeded(backend: Backend, said: str) -> None:
    query = urlencode({"shape": "said", "said": said})
    with pytest.raises(ContextWindowExceededError) as caught:
        acme(backend.url).send("POST", f"status/400?{query}")
    assert caught.value.status_code == 400
    assert said in caught.value.message


def test_another_status_about_context_length_keeps_its_class(backend: Backend) -> None:
    with pytest.raises(UnprocessableEntityError):
        acme(backend.url).send("POST", "status/422?shape=said&said=maximum+context+length")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("call", ["send", "sse", "ndjson", "text"])
def test_retry_after_is_kept_on_every_kind_of_call(backend: Backend, kind: str, call: str) -> None:
    endpoint = acme(backend.url)
    path = "status/429?retry_after=7"
    with pytest.raises(RateLimitError) as caught:
        if call == "send":
            send(endpoint, kind, "POST", path)
        else:
            read(stream(endpoint, kind, call, path))
    assert caught.value.retry_after == 7
    assert caught.value.message.endswith(f": {SAID}")


def test_a_retry_after_date_is_not_a_number_of_seconds(backend: Backend) -> None:
    with pytest.raises(RateLimitError) as caught:
        acme(backend.url).send("POST", "status/429?retry_after=Wed,+21+Oct+2015+07:28:00+GMT")
    assert caught.value.retry_after is None


def test_a_redirect_is_not_followed_and_names_where_it_leads(backend: Backend) -> None:
    with pytest.raises(BadGatewayError) as caught:
        acme(backend.url).send("POST", "redirect")
    assert "acme answered HTTP 307" in str(caught.value)
    assert "it redirects to https://llm.example/v1/chat" in str(caught.value)
    assert "set api_base to the address it names" in str(caught.value)


def test_error_of_a_response_built_by_hand(backend: Backend) -> None:
    error = acme(backend.url).error(httpx.Response(403, json={"error": "no"}))
    assert type(error) is PermissionDeniedError
    assert error.message == "acme answered HTTP 403: no"


# -- answers that are not what the protocol promises --------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_an_answer_that_is_not_json_is_a_bad_gateway(backend: Backend, kind: str) -> None:
    with pytest.raises(BadGatewayError) as caught:
        send(acme(backend.url), kind, "POST", "not-json")
    assert str(caught.value) == (
        f"acme sent its answer to POST {backend.url}/not-json that is not JSON: "
        "<html><body>502 Bad Gateway</body></html> (provider 'acme', model 'm1')"
    )


def test_an_empty_answer_says_it_was_empty(backend: Backend) -> None:
    with pytest.raises(BadGatewayError, match=r"that is not JSON: \(an empty body\)"):
        acme(backend.url).send("POST", "not-json?body=")


def test_parse_json_decodes_or_names_what_was_not_json() -> None:
    endpoint = acme("http://127.0.0.1:1")
    assert endpoint.parse_json(b'{"a": 1}') == {"a": 1}
    with pytest.raises(BadGatewayError) as caught:
        endpoint.parse_json("{oops", "a chunk")
    assert caught.value.message == "acme sent a chunk that is not JSON: {oops"


# -- transport failures -------------------------------------------------------------------------


def test_transport_errors_table_lists_the_most_specific_first() -> None:
    for i, (source, target, meaning) in enumerate(TRANSPORT_ERRORS):
        assert issubclass(source, (httpx.HTTPError, httpx.InvalidURL))
        assert issubclass(target, LLMCtlError)
        assert meaning
        shadowing = [
            earlier for earlier, _, _ in TRANSPORT_ERRORS[:i] if issubclass(source, earlier)
        ]
        assert shadowing == [], f"{source.__name__} is caught first by {shadowing}"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("call", ["send", "sse", "ndjson", "text"])
def test_connection_refused_is_a_connection_error(refused_url: str, kind: str, call: str) -> None:
    endpoint = acme(refused_url)
    with pytest.raises(APIConnectionError) as caught:
        if call == "send":
            send(endpoint, kind, "POST", "chat")
        else:
            read(stream(endpoint, kind, call, "chat"))
    assert caught.value.message.startswith(
        f"acme at {refused_url} refused the connection or could not be reached "
        f"(POST {refused_url}/chat; ConnectError: "
    )
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize("kind", KINDS)
def test_a_slow_server_is_a_timeout_naming_the_timeout(backend: Backend, kind: str) -> None:
    with pytest.raises(Timeout) as caught:
        send(acme(backend.url, timeout=0.2), kind, "POST", "slow")
    assert caught.value.status_code == 408
    assert caught.value.message.startswith(f"acme at {backend.url} did not answer in time")
    assert "ReadTimeout" in caught.value.message
    assert caught.value.message.endswith("; timeout 0.2 s: pass a larger timeout)")


@pytest.mark.parametrize("kind", KINDS)
def test_a_stream_that_stalls_is_a_timeout_after_what_came(backend: Backend, kind: str) -> None:
    events: list[ServerSentEvent] = []
    with pytest.raises(Timeout, match="did not answer in time"):
        read(stream(acme(backend.url, timeout=0.2), kind, "sse", "sse/stall"), events)
    assert [event.data for event in events] == ['{"n": 1}']


@pytest.mark.parametrize("kind", KINDS)
def test_a_connection_dropped_mid_body_is_a_connection_error(backend: Backend, kind: str) -> None:
    with pytest.raises(APIConnectionError, match="broke the connection mid-answer"):
        send(acme(backend.url), kind, "POST", "drop")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("call", "path", "first"),
    [
        pytest.param("sse", "sse/drop", '{"n": 1}', id="sse"),
        pytest.param("ndjson", "ndjson-drop", {"n": 1}, id="ndjson"),
        pytest.param("text", "text-drop", "Hello, ", id="text"),
    ],
)
def test_a_connection_dropped_mid_stream_is_a_connection_error(
    backend: Backend, kind: str, call: str, path: str, first: Any
) -> None:
    items: list[Any] = []
    with pytest.raises(APIConnectionError, match="broke the connection mid-answer"):
        read(stream(acme(backend.url), kind, call, path), items)
    got = [item.data if isinstance(item, ServerSentEvent) else item for item in items]
    assert got == [first]


@pytest.mark.parametrize(
    ("base", "meaning"),
    [
        pytest.param("ftp://127.0.0.1:21", "has an address that is not http(s)", id="ftp"),
        pytest.param("http://[::1", "has an address that is not a valid URL", id="invalid"),
    ],
)
def test_an_address_httpx_cannot_use_is_a_bad_request(base: str, meaning: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        acme(base).send("GET", "models")
    assert caught.value.message.startswith(f"acme at {base} {meaning} (GET {base}/models; ")


def test_waiting_for_a_busy_pool_is_a_timeout(backend: Backend) -> None:
    with httpx.Client(limits=httpx.Limits(max_connections=1)) as own:
        endpoint = acme(backend.url, client=own, timeout=httpx.Timeout(5.0, pool=0.2))
        with contextlib.closing(endpoint.stream_sse("POST", "sse/endless?tag=pool")) as events:
            next(events)
            with pytest.raises(Timeout) as caught:
                endpoint.send("GET", "models")
    assert "had no free pooled connection in time (all were busy)" in caught.value.message
    assert "timeout connect 5 s, read 5 s, write 5 s, pool 0.2 s" in caught.value.message


# -- server-sent events -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_sse_yields_each_event_until_done(backend: Backend, kind: str) -> None:
    events = read(stream(acme(backend.url), kind, "sse", "sse/chat", json={"stream": True}))
    assert [(event.event, event.data, event.id) for event in events] == [
        ("message", '{"n": 1}', ""),
        ("progress", "line one\nline two", "7"),
        ("message", '{"n": 2}', "7"),  # the last id carries over, as the SSE spec says
    ]
    assert json.loads(events[0].data) == {"n": 1}


@pytest.mark.parametrize("kind", KINDS)
def test_sse_is_utf8_even_split_mid_character_under_another_charset(
    backend: Backend, kind: str
) -> None:
    (event,) = read(stream(acme(backend.url), kind, "sse", "sse/utf8"))
    assert event.data == '{"t": "d\u00e9j\u00e0 \u20ac"}'
    assert event.json() == {"t": "d\u00e9j\u00e0 \u20ac"}
    assert (
        repr(event) == "ServerSentEvent(event='message', data='{\"t\": \"d\u00e9j\u00e0 \u20ac\"}')"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_sse_without_done_is_an_incomplete_answer(backend: Backend, kind: str) -> None:
    events: list[ServerSentEvent] = []
    with pytest.raises(BadGatewayError) as caught:
        read(stream(acme(backend.url), kind, "sse", "sse/chat?done=no"), events)
    assert len(events) == 3  # what came is delivered before the error
    assert caught.value.message == (
        f"acme ended the stream of POST {backend.url}/sse/chat?done=no before its '[DONE]' "
        "event; the answer is incomplete"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_sse_with_done_none_ends_with_the_body(backend: Backend, kind: str) -> None:
    events = read(stream(acme(backend.url), kind, "sse", "sse/chat?done=no", done=None))
    assert len(events) == 3


@pytest.mark.parametrize("kind", KINDS)
def test_sse_with_done_none_yields_a_done_marker_as_data(backend: Backend, kind: str) -> None:
    events = read(stream(acme(backend.url), kind, "sse", "sse/chat", done=None))
    assert events[-1].data == "[DONE]"


@pytest.mark.parametrize("kind", KINDS)
def test_sse_answered_with_json_is_a_bad_gateway(backend: Backend, kind: str) -> None:
    with pytest.raises(BadGatewayError) as caught:
        read(stream(acme(backend.url), kind, "sse", "sse/json"))
    assert "acme at" in caught.value.message
    assert "answered without an event stream" in caught.value.message
    assert "got 'application/json'" in caught.value.message


def test_sse_asks_for_an_event_stream_unless_the_call_says_otherwise(backend: Backend) -> None:
    (event,) = read(acme(backend.url, api_key="k").stream_sse("POST", "sse/headers"))
    assert json.loads(event.data)["accept"] == "text/event-stream"
    assert json.loads(event.data)["authorization"] == "Bearer k"
    mine = acme(backend.url, headers={"accept": "text/event-stream; q=1"})
    (event,) = read(mine.stream_sse("POST", "sse/headers"))
    assert json.loads(event.data)["accept"] == "text/event-stream; q=1"


@pytest.mark.parametrize("kind", KINDS)
def test_sse_read_to_done_leaves_its_connection_in_the_pool(backend: Backend, kind: str) -> None:
    endpoint = acme(backend.url)

    async def then_send() -> None:
        async with contextlib.aclosing(endpoint.astream_sse("POST", "sse/chat")) as events:
            assert [event async for event in events]
        await endpoint.asend("GET", "models")

    if kind == "async":
        asyncio.run(then_send())
    else:
        read(endpoint.stream_sse("POST", "sse/chat"))
        endpoint.send("GET", "models")
    assert backend.ports[-1] == backend.ports[-2]  # the second request reused the connection


# -- newline-delimited JSON ---------------------------------------------------------------------


def is_done(item: Any) -> bool:
    return bool(item.get("done"))


@pytest.mark.parametrize("kind", KINDS)
def test_ndjson_yields_each_line_decoded_through_the_last(backend: Backend, kind: str) -> None:
    lines = read(stream(acme(backend.url), kind, "ndjson", "ndjson/done", until=is_done))
    assert lines == [{"n": 1}, {"n": 2}, {"n": 3, "done": True}]  # blank lines skipped


@pytest.mark.parametrize("kind", KINDS)
def test_ndjson_without_its_last_object_is_an_incomplete_answer(
    backend: Backend, kind: str
) -> None:
    lines: list[Any] = []
    with pytest.raises(BadGatewayError) as caught:
        read(stream(acme(backend.url), kind, "ndjson", "ndjson/no-done", until=is_done), lines)
    assert lines == [{"n": 1}, {"n": 2}]
    assert caught.value.message == (
        f"acme ended the stream of POST {backend.url}/ndjson/no-done before its last object; "
        "the answer is incomplete"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_ndjson_until_none_ends_with_the_body(backend: Backend, kind: str) -> None:
    lines = read(stream(acme(backend.url), kind, "ndjson", "ndjson/null"))
    assert lines == [None, [1, 2], "done"]


@pytest.mark.parametrize("kind", KINDS)
def test_ndjson_line_that_is_not_json_is_a_bad_gateway(backend: Backend, kind: str) -> None:
    lines: list[Any] = []
    with pytest.raises(BadGatewayError) as caught:
        read(stream(acme(backend.url), kind, "ndjson", "ndjson/bad", until=is_done), lines)
    assert lines == [{"n": 1}]
    assert caught.value.message == (
        f"acme sent a line of its stream to POST {backend.url}/ndjson/bad that is not JSON: "
        "<html>oops</html>"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_ndjson_read_to_its_last_object_leaves_its_connection_in_the_pool(
    backend: Backend, kind: str
) -> None:
    endpoint = acme(backend.url)

    async def then_send() -> None:
        async with contextlib.aclosing(
            endpoint.astream_ndjson("POST", "ndjson/done", until=is_done)
        ) as lines:
            async for line in lines:
                if line.get("done"):
                    break  # a caller stopping at the last object, as a handler does
        await endpoint.asend("GET", "models")

    if kind == "async":
        asyncio.run(then_send())
    else:
        for line in endpoint.stream_ndjson("POST", "ndjson/done", until=is_done):
            if line.get("done"):
                break
        endpoint.send("GET", "models")
    assert backend.ports[-1] == backend.ports[-2]


# -- chunked text -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_text_yields_the_chunks_as_text_keeping_split_characters_whole(
    backend: Backend, kind: str
) -> None:
    texts = read(stream(acme(backend.url), kind, "text", "text"))
    assert "".join(texts) == "Hello, w\u00f6rld!"
    assert all(isinstance(text, str) and text for text in texts)


# -- a stream closed early ----------------------------------------------------------------------


def test_closing_a_sync_stream_early_closes_its_response(backend: Backend) -> None:
    with httpx.Client(limits=httpx.Limits(max_connections=1)) as own:
        endpoint = acme(backend.url, client=own, timeout=httpx.Timeout(5.0, pool=1.0))
        events = endpoint.stream_sse("POST", "sse/endless?tag=sync-close")
        assert next(events).data == '{"n": 1}'
        events.close()
        assert backend.abandoned("sync-close")  # the server saw the client go
        # the only connection of the pool is free again
        assert endpoint.send("GET", "models")["method"] == "GET"


@pytest.mark.asyncio
async def test_closing_an_async_stream_early_closes_its_response(backend: Backend) -> None:
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=1)) as own:
        endpoint = acme(backend.url, client=own, timeout=httpx.Timeout(5.0, pool=1.0))
        events = endpoint.astream_sse("POST", "sse/endless?tag=async-close")
        assert (await anext(events)).data == '{"n": 1}'
        await events.aclose()
        assert await asyncio.to_thread(backend.abandoned, "async-close")
        assert (await endpoint.asend("GET", "models"))["method"] == "GET"


def test_breaking_out_of_a_pooled_stream_frees_its_connection(backend: Backend) -> None:
    endpoint = acme(backend.url)
    for _ in endpoint.stream_sse("POST", "sse/endless?tag=break"):
        break
    assert backend.abandoned("break")


# -- the pool -----------------------------------------------------------------------------------


def test_one_sync_client_per_base_url_is_reused_across_calls(backend: Backend) -> None:
    first = acme(backend.url).send("GET", "a")["port"]
    again = acme(backend.url, api_key="other", timeout=3).send("GET", "b")["port"]
    elsewhere = acme(backend.url + "/v1").send("GET", "c")["port"]
    assert again == first  # a new Endpoint, the same pooled client and connection
    assert elsewhere != first  # another base URL, another client


@pytest.mark.asyncio
async def test_async_calls_of_one_loop_share_one_client(backend: Backend) -> None:
    endpoint = acme(backend.url)
    first = (await endpoint.asend("GET", "a"))["port"]
    assert (await acme(backend.url).asend("GET", "b"))["port"] == first


def test_each_event_loop_has_its_own_async_client(backend: Backend) -> None:
    endpoint = acme(backend.url)
    loops = [asyncio.new_event_loop(), asyncio.new_event_loop()]
    try:
        ports = [loop.run_until_complete(endpoint.asend("GET", "x"))["port"] for loop in loops]
        again = loops[0].run_until_complete(endpoint.asend("GET", "x"))["port"]
    finally:
        for loop in loops:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
    assert ports[0] != ports[1]
    assert again == ports[0]


def test_async_clients_close_with_their_loop_without_a_warning(
    backend: Backend, unraisable: list[Any]
) -> None:
    endpoint = acme(backend.url)
    ports = [asyncio.run(endpoint.asend("GET", "x"))["port"] for _ in range(4)]
    events = [read(endpoint.astream_sse("POST", "sse/chat")) for _ in range(2)]
    assert len(set(ports)) == 4  # each loop's client was closed with it; the next opened anew
    assert all(len(each) == 3 for each in events)
    gc.collect()
    assert unraisable == []


def test_close_clients_closes_the_sync_clients(backend: Backend, unraisable: list[Any]) -> None:
    endpoint = acme(backend.url)
    first = endpoint.send("GET", "x")["port"]
    close_clients()
    assert endpoint.send("GET", "x")["port"] != first
    gc.collect()
    assert unraisable == []


@pytest.mark.asyncio
async def test_close_clients_leaves_a_running_loops_clients_working(backend: Backend) -> None:
    endpoint = acme(backend.url)
    first = (await endpoint.asend("GET", "x"))["port"]
    close_clients()
    assert (await endpoint.asend("GET", "x"))["port"] == first


@pytest.mark.asyncio
async def test_aclose_clients_closes_the_running_loops_clients(backend: Backend) -> None:
    endpoint = acme(backend.url)
    first = (await endpoint.asend("GET", "x"))["port"]
    await aclose_clients()
    assert (await endpoint.asend("GET", "x"))["port"] != first
    await aclose_clients()
    await aclose_clients()  # nothing left to close is fine


def test_a_forked_child_opens_its_own_connections(backend: Backend) -> None:
    script = textwrap.dedent(
        f"""
        import os, sys
        from llmctl.http import Endpoint

        endpoint = Endpoint.from_call("acme", api_base={backend.url!r})
        parent = endpoint.send("GET", "x")["port"]
        child = os.fork()
        if child == 0:
            os._exit(0 if endpoint.send("GET", "x")["port"] != parent else 1)
        _, status = os.waitpid(child, 0)
        again = endpoint.send("GET", "x")["port"]
        sys.exit(os.waitstatus_to_exitcode(status) or (again != parent))
        """
    )
    if not hasattr(__import__("os"), "fork"):
        pytest.skip("no fork on this platform")
    assert subprocess.run([sys.executable, "-c", script], timeout=30).returncode == 0


# -- a caller's own client ----------------------------------------------------------------------


def test_a_callers_sync_client_is_used_and_left_open(backend: Backend) -> None:
    with httpx.Client(headers={"X-Own": "sync"}) as own:
        endpoint = acme(backend.url, client=own)
        assert endpoint.client is own
        assert endpoint.send("GET", "x")["headers"]["x-own"] == "sync"
        close_clients()
        assert not own.is_closed
        assert read(endpoint.stream_sse("POST", "sse/chat"))


@pytest.mark.asyncio
async def test_a_callers_async_client_is_used_and_left_open(backend: Backend) -> None:
    async with httpx.AsyncClient(headers={"X-Own": "async"}) as own:
        endpoint = acme(backend.url, client=own)
        assert (await endpoint.asend("GET", "x"))["headers"]["x-own"] == "async"
        await aclose_clients()
        assert not own.is_closed
        # a sync call of the same endpoint goes through the pool
        assert "x-own" not in (await asyncio.to_thread(endpoint.send, "GET", "x"))["headers"]


def test_a_client_that_is_not_httpx_is_ignored() -> None:
    assert acme("http://127.0.0.1:1", client=object()).client is None


# -- the event parser against httpx-sse's decoders --------------------------------------------

_SSE_ATOMS = [
    b"data: x\n\n",
    b"data:y",
    b"\n",
    b"\r",
    b"\r\n",
    b'data: {"a": 1}\n\n',
    b"event: e",
    b"id: 7",
    b"id: a\0b",
    b"retry: 12",
    b"retry: zz",
    b": c",
    b"data",
    b"data:  two",
    "\u2028".encode(),  # a line separator to str.splitlines, not to SSE
    "data: d\u00e9j\u00e0 \u20ac\U0001f600\n\n".encode(),  # cut anywhere, even mid-character
    b"\xff\xe2\x82",  # not UTF-8
    b"x: y",
    b" ",
    b"data: [DONE]\n\n",
    b"\n\n",
]


def _reference_events(pieces: list[bytes]) -> list[tuple[str, str, str, int | None]]:
    """httpx-sse's events over httpx's text decoding of the same bytes."""
    from httpx._decoders import TextDecoder
    from httpx_sse._decoders import SSEDecoder, SSELineDecoder

    text, lines, decoder = TextDecoder("utf-8"), SSELineDecoder(), SSEDecoder()
    texts = [text.decode(piece) for piece in pieces] + [text.flush()]
    events = []
    for piece in filter(None, texts):  # httpx never yields empty text
        events += [decoder.decode(line.rstrip("\n")) for line in lines.decode(piece)]
    events += [decoder.decode(line.rstrip("\n")) for line in lines.flush()]
    return [(e.event, e.data, e.id, e.retry) for e in events if e is not None]


def _parsed_events(pieces: list[bytes]) -> list[tuple[str, str, str, int | None]]:
    from llmctl._sse import EventParser

    parser, events = EventParser(), []
    for piece in pieces:
        events += parser.feed(piece)
    events += parser.end()
    return [(e.event, e.data, e.id, e.retry) for e in events]


def test_event_parser_gives_httpx_sses_events_for_random_streams_cut_anywhere() -> None:
    rng = random.Random(6)
    for _ in range(5000):
        body = b"".join(rng.choice(_SSE_ATOMS) for _ in range(rng.randint(0, 12)))
        cuts = sorted(rng.sample(range(len(body) + 1), min(len(body) + 1, rng.randint(0, 4))))
        pieces = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
        pieces = [piece for piece in pieces if piece]  # httpx never yields empty bytes
        assert _parsed_events(pieces) == _reference_events(pieces), pieces
