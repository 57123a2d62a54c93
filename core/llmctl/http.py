"""Shared plumbing for providers that call a server over HTTP.

A plugin describes its backend once per call as an :class:`Endpoint` and sends through it::

    from llmctl.http import Endpoint

    endpoint = Endpoint.from_call(
        "ollama", model=model, api_base=api_base, api_key=api_key, headers=headers,
        timeout=timeout, base_env="OLLAMA_API_BASE", default_base="http://127.0.0.1:11434",
    )
    data = endpoint.send("POST", "/api/chat", json=body)             # decoded JSON
    data = await endpoint.asend("POST", "/api/chat", json=body)
    for line in endpoint.stream_ndjson("POST", "/api/chat", json=body, until=is_done): ...
    async for event in endpoint.astream_sse("POST", "/v1/chat/completions", json=body): ...

What every HTTP provider gets from it:

- One pooled ``httpx`` client per base URL, reused across calls: one for sync calls, and one
  per event loop for async ones, closed when its loop shuts down. A caller's own
  ``client=httpx.Client(...)`` (or ``AsyncClient``) is used instead when the call passes one.
- The call's timeout, api_key, api_base and headers, else the environment variables the
  plugin names, else its defaults. Nothing is retried: retries are the caller's policy.
- Every failure as an :mod:`llmctl.exceptions` error that keeps the backend's own message:
  an error status becomes the class of that status (see :data:`TRANSPORT_ERRORS` for
  connection failures), a body that is not what the protocol promises a
  :class:`~llmctl.exceptions.BadGatewayError`.
- Server-sent events (through ``httpx-sse``), NDJSON and plain chunked text read as they
  arrive. A stream that stops before its end marker raises; it never ends silently.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import httpx_sse

from llmctl.exceptions import (
    APIConnectionError,
    BadGatewayError,
    BadRequestError,
    ContextWindowExceededError,
    LLMCtlError,
    Timeout,
    error_for_status,
)
from llmctl.request import DEFAULT_TIMEOUT

__all__ = ["LIMITS", "TRANSPORT_ERRORS", "Endpoint", "ServerSentEvent", "close_clients"]

#: One event of a server-sent event stream: ``.event``, ``.data``, ``.id``, ``.retry``.
ServerSentEvent = httpx_sse.ServerSentEvent

#: Connection limits of the pooled clients: enough keep-alive connections for a proxy worker
#: serving many concurrent calls to one backend, so none is reopened per call.
LIMITS: Final = httpx.Limits(max_connections=512, max_keepalive_connections=128)

#: How transport failures map to llmctl's errors, most specific first, and what each means.
TRANSPORT_ERRORS: Final[tuple[tuple[type[Exception], type[LLMCtlError], str], ...]] = (
    (httpx_sse.SSEError, BadGatewayError, "answered without an event stream"),
    (httpx.TimeoutException, Timeout, "did not answer in time"),
    (httpx.ConnectError, APIConnectionError, "refused the connection or could not be reached"),
    (httpx.RemoteProtocolError, APIConnectionError, "broke the connection mid-answer"),
    (httpx.NetworkError, APIConnectionError, "broke the connection"),
    (httpx.DecodingError, BadGatewayError, "sent a body that cannot be decoded"),
    (httpx.UnsupportedProtocol, BadRequestError, "has an address that is not http(s)"),
    (httpx.InvalidURL, BadRequestError, "has an address that is not a valid URL"),
)

#: Words in a 400's message that mean the prompt is longer than the context window.
_CONTEXT_WINDOW_HINTS: Final = (
    "context length",
    "context window",
    "maximum context",
    "too many tokens",
    "prompt is too long",
)
#: The most of a backend's error body quoted in a message.
_QUOTE_LIMIT: Final = 500


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A backend as one call reaches it: where, with which headers, and for how long.

    Build it with :meth:`from_call`; its methods send requests and map every failure to
    llmctl's errors, naming the provider, the model and the URL.

    :param provider: the provider's name, for messages (``ollama``).
    :param base_url: the backend's address without a trailing slash.
    :param headers: sent with every request (authentication included).
    :param timeout: seconds, or an ``httpx.Timeout``, for each request (and each read of a
        stream).
    :param model: the model called, for messages.
    :param client: a caller's own ``httpx.Client`` or ``httpx.AsyncClient``, used instead of
        the pool for calls of its kind.
    """

    provider: str
    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float | httpx.Timeout = DEFAULT_TIMEOUT
    model: str | None = None
    client: httpx.Client | httpx.AsyncClient | None = None

    @classmethod
    def from_call(
        cls,
        provider: str,
        *,
        model: str | None = None,
        api_base: str | None = None,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = None,
        client: Any = None,
        base_env: str | None = None,
        key_env: str | None = None,
        default_base: str | None = None,
        auth: Callable[[str], Mapping[str, str]] | None = None,
    ) -> Endpoint:
        """Build the endpoint of one call from its arguments, the environment and defaults.

        :param api_base: the call's ``api_base``; else ``$base_env``; else ``default_base``.
        :param api_key: the call's ``api_key``; else ``$key_env``; sent as ``auth(key)``
            (``Authorization: Bearer <key>`` by default). No key, no header.
        :param headers: the call's own headers, sent last (they win).
        :param timeout: the call's timeout: seconds or an ``httpx.Timeout``.
        :param client: the call's ``client``; used only when it is an httpx client.
        :raises BadRequestError: no address was given anywhere, or the timeout is not a number.
        """
        base = api_base or (os.environ.get(base_env) if base_env else None) or default_base
        if not base:
            where = f", set {base_env}" if base_env else ""
            raise BadRequestError(
                f"{provider} needs the address of its server: pass api_base='http://host:port'"
                f"{where}, or set api_base in the model's litellm_params in config.yaml",
                llm_provider=provider,
                model=model,
            )
        key = api_key or (os.environ.get(key_env) if key_env else None)
        sent: dict[str, str] = {}
        if key:
            sent.update(auth(key) if auth else {"Authorization": f"Bearer {key}"})
        if headers:
            sent.update(headers)
        return cls(
            provider=provider,
            base_url=base.rstrip("/"),
            headers=sent,
            timeout=_timeout(timeout, provider),
            model=model,
            client=client if isinstance(client, (httpx.Client, httpx.AsyncClient)) else None,
        )

    def url(self, path: str) -> str:
        """Return the full URL of ``path`` (``/api/chat``) on this backend."""
        return f"{self.base_url}/{path.lstrip('/')}"

    # -- one request, one JSON answer ----------------------------------------------------------

    def send(self, method: str, path: str, *, json: Any = None) -> Any:
        """Send one request and return its decoded JSON answer.

        :raises LLMCtlError: the class of the backend's error status, of a transport
            failure (:data:`TRANSPORT_ERRORS`), or :class:`BadGatewayError` for a body that is
            not JSON.
        """
        url = self.url(path)
        with self._mapped(method, url):
            response = self._sync_client().request(
                method, url, json=json, headers=self.headers, timeout=self.timeout
            )
        return self._answer(method, url, response)

    async def asend(self, method: str, path: str, *, json: Any = None) -> Any:
        """Send one request without blocking the event loop; see :meth:`send`."""
        url = self.url(path)
        client = await self._async_client()
        with self._mapped(method, url):
            response = await client.request(
                method, url, json=json, headers=self.headers, timeout=self.timeout
            )
        return self._answer(method, url, response)

    # -- streams -------------------------------------------------------------------------------

    def stream_sse(
        self, method: str, path: str, *, json: Any = None, done: str | None = "[DONE]"
    ) -> Iterator[ServerSentEvent]:
        """Yield the server-sent events of one request as they arrive.

        :param done: the ``data`` that ends the stream (not yielded); a stream that ends
            without it raises :class:`BadGatewayError`. ``None``: the body's end is the end.
        """
        url = self.url(path)
        with self._stream(method, url, json) as response:
            for event in httpx_sse.EventSource(response).iter_sse():
                if done is not None and event.data == done:
                    return
                yield event
        if done is not None:
            raise self._cut_short(method, url, f"before its {done!r} event")

    async def astream_sse(
        self, method: str, path: str, *, json: Any = None, done: str | None = "[DONE]"
    ) -> AsyncIterator[ServerSentEvent]:
        """Yield the server-sent events of one request as they arrive; see :meth:`stream_sse`."""
        url = self.url(path)
        async with self._astream(method, url, json) as response:
            async for event in httpx_sse.EventSource(response).aiter_sse():
                if done is not None and event.data == done:
                    return
                yield event
        if done is not None:
            raise self._cut_short(method, url, f"before its {done!r} event")

    def stream_ndjson(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        until: Callable[[Any], bool] | None = None,
    ) -> Iterator[Any]:
        """Yield each line of a newline-delimited JSON answer, decoded, as it arrives.

        :param until: true for the last object (Ollama's ``done: true``), which is yielded;
            a stream that ends before one raises :class:`BadGatewayError`. ``None``: the
            body's end is the end.
        :raises BadGatewayError: a line is not JSON.
        """
        url = self.url(path)
        with self._stream(method, url, json) as response:
            for line in response.iter_lines():
                if line.strip():
                    item = self._decode(method, url, line, "a line of its stream")
                    yield item
                    if until is not None and until(item):
                        return
        if until is not None:
            raise self._cut_short(method, url, "before its last object")

    async def astream_ndjson(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        until: Callable[[Any], bool] | None = None,
    ) -> AsyncIterator[Any]:
        """Yield each decoded line of an NDJSON answer; see :meth:`stream_ndjson`."""
        url = self.url(path)
        async with self._astream(method, url, json) as response:
            async for line in response.aiter_lines():
                if line.strip():
                    item = self._decode(method, url, line, "a line of its stream")
                    yield item
                    if until is not None and until(item):
                        return
        if until is not None:
            raise self._cut_short(method, url, "before its last object")

    def stream_text(self, method: str, path: str, *, json: Any = None) -> Iterator[str]:
        """Yield the text of a chunked answer as it arrives (the body's end is the end)."""
        url = self.url(path)
        with self._stream(method, url, json) as response:
            for text in response.iter_text():
                if text:
                    yield text

    async def astream_text(self, method: str, path: str, *, json: Any = None) -> AsyncIterator[str]:
        """Yield the text of a chunked answer as it arrives; see :meth:`stream_text`."""
        url = self.url(path)
        async with self._astream(method, url, json) as response:
            async for text in response.aiter_text():
                if text:
                    yield text

    def parse_json(self, text: str | bytes, what: str = "an event of its stream") -> Any:
        """Decode a piece of the backend's answer, or raise :class:`BadGatewayError`."""
        return self._decode("", "", text, what)

    # -- errors --------------------------------------------------------------------------------

    def error(self, response: httpx.Response) -> LLMCtlError:
        """Return the llmctl error for a response with an error status (its body read).

        The message keeps what the backend said (OpenAI's ``error.message``, Ollama's
        ``error``, TorchServe's ``message``, FastAPI's ``detail``, else the text). A 400 about
        the context length is a :class:`ContextWindowExceededError`; a ``Retry-After`` header
        is kept as the error's ``retry_after``.
        """
        said = _backend_message(response)
        request = response.request
        message = (
            f"{self.provider} answered HTTP {response.status_code} to {request.method} "
            f"{request.url}: {said}"
        )
        error: LLMCtlError
        lowered = said.lower()
        if response.status_code == 400 and any(hint in lowered for hint in _CONTEXT_WINDOW_HINTS):
            error = ContextWindowExceededError(
                message, llm_provider=self.provider, model=self.model
            )
        else:
            error = error_for_status(
                response.status_code, message, llm_provider=self.provider, model=self.model
            )
        retry_after = response.headers.get("retry-after", "")
        if retry_after.isdigit():
            error.retry_after = int(retry_after)
        return error

    def _answer(self, method: str, url: str, response: httpx.Response) -> Any:
        if response.is_error:
            raise self.error(response)
        return self._decode(method, url, response.content, "its answer")

    def _decode(self, method: str, url: str, text: str | bytes, what: str) -> Any:
        try:
            return json.loads(text)
        except ValueError:
            quoted = _quote(text if isinstance(text, str) else text.decode("utf-8", "replace"))
            where = f" to {method} {url}" if url else ""
            raise BadGatewayError(
                f"{self.provider} sent {what}{where} that is not JSON: {quoted}",
                llm_provider=self.provider,
                model=self.model,
            ) from None

    def _cut_short(self, method: str, url: str, what: str) -> BadGatewayError:
        return BadGatewayError(
            f"{self.provider} ended the stream of {method} {url} {what}; the answer is incomplete",
            llm_provider=self.provider,
            model=self.model,
        )

    @contextmanager
    def _mapped(self, method: str, url: str) -> Iterator[None]:
        """Raise transport failures inside the block as llmctl errors (:data:`TRANSPORT_ERRORS`)."""
        try:
            yield
        except httpx.HTTPError as exc:
            for source, target, meaning in TRANSPORT_ERRORS:
                if isinstance(exc, source):
                    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                    raise target(
                        f"{self.provider} at {self.base_url} {meaning} ({method} {url}; {detail})",
                        llm_provider=self.provider,
                        model=self.model,
                    ) from exc
            raise

    @contextmanager
    def _stream(self, method: str, url: str, json: Any) -> Iterator[httpx.Response]:
        with (
            self._mapped(method, url),
            self._sync_client().stream(
                method, url, json=json, headers=self.headers, timeout=self.timeout
            ) as response,
        ):
            if response.is_error:
                response.read()
                raise self.error(response)
            yield response

    @asynccontextmanager
    async def _astream(self, method: str, url: str, json: Any) -> AsyncIterator[httpx.Response]:
        client = await self._async_client()
        with self._mapped(method, url):
            async with client.stream(
                method, url, json=json, headers=self.headers, timeout=self.timeout
            ) as response:
                if response.is_error:
                    await response.aread()
                    raise self.error(response)
                yield response

    # -- clients -------------------------------------------------------------------------------

    def _sync_client(self) -> httpx.Client:
        if isinstance(self.client, httpx.Client):
            return self.client
        return _pool.sync_client(self.base_url)

    async def _async_client(self) -> httpx.AsyncClient:
        if isinstance(self.client, httpx.AsyncClient):
            return self.client
        return await _pool.async_client(self.base_url)


class _ClientPool:
    """The pooled clients: one sync client per base URL, one async client per (loop, URL).

    An async client belongs to the event loop that made it (its connections do), so each loop
    has its own; they are closed when the loop shuts its async generators down, as
    ``asyncio.run`` and uvicorn do on exit.
    """

    def __init__(self) -> None:
        self._sync: dict[str, httpx.Client] = {}
        self._lock = threading.Lock()
        self._async: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]
        ] = weakref.WeakKeyDictionary()
        #: Per loop, the async generator whose ``finally`` closes that loop's clients.
        self._closers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncIterator[None]] = (
            weakref.WeakKeyDictionary()
        )

    def sync_client(self, base_url: str) -> httpx.Client:
        client = self._sync.get(base_url)
        if client is None:
            with self._lock:
                client = self._sync.get(base_url)
                if client is None:
                    client = self._sync[base_url] = httpx.Client(limits=LIMITS)
        return client

    async def async_client(self, base_url: str) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        clients = self._async.get(loop)
        if clients is None:
            clients = self._async[loop] = {}
            closer = self._closers[loop] = _close_at_shutdown(clients)
            await anext(closer)
        client = clients.get(base_url)
        if client is None:
            client = clients[base_url] = httpx.AsyncClient(limits=LIMITS)
        return client

    def close(self) -> None:
        """Close the sync clients and forget every client (async ones close with their loop)."""
        with self._lock:
            clients, self._sync = self._sync, {}
        for client in clients.values():
            client.close()
        self._async.clear()
        self._closers.clear()


async def _close_at_shutdown(clients: dict[str, httpx.AsyncClient]) -> AsyncIterator[None]:
    """Wait, suspended, until the loop shuts down its async generators; then close ``clients``."""
    try:
        yield
    finally:
        for client in list(clients.values()):
            await client.aclose()
        clients.clear()


_pool: Final = _ClientPool()


def close_clients() -> None:
    """Close the pooled sync clients now (async clients close when their event loop ends).

    Call it where a long-lived process changes backends, or in tests; the next call opens a
    fresh client.
    """
    _pool.close()


def _timeout(value: Any, provider: str) -> float | httpx.Timeout:
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, httpx.Timeout):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    raise BadRequestError(
        f"timeout must be a positive number of seconds or an httpx.Timeout, got {value!r}",
        llm_provider=provider,
        param="timeout",
    )


def _backend_message(response: httpx.Response) -> str:
    """Return what the backend said about its error, from the common body shapes."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return _quote(text) if text else response.reason_phrase or "(empty body)"
    said: Any = body
    if isinstance(body, dict):
        for key in ("error", "message", "detail"):
            if key in body:
                said = body[key]
                break
        if isinstance(said, dict):
            said = said.get("message", said)
    return _quote(said if isinstance(said, str) else json.dumps(said))


def _quote(text: str) -> str:
    return text if len(text) <= _QUOTE_LIMIT else text[:_QUOTE_LIMIT] + "..."
