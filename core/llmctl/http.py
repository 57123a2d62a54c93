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
  A stream read to its end marker gives its connection back to the pool; one closed early
  closes its connection.
- The call's timeout, api_key, api_base and headers, else the environment variables the
  plugin names, else its defaults. Nothing is retried: retries are the caller's policy.
- Every failure as an :mod:`llmctl.exceptions` error that keeps the backend's own message:
  an error status becomes the class of that status (see :data:`TRANSPORT_ERRORS` for
  connection failures), a body that is not what the protocol promises a
  :class:`~llmctl.exceptions.BadGatewayError`.
- Server-sent events (decoded as ``httpx-sse`` does, always as UTF-8), NDJSON and plain
  chunked text read as they arrive. A stream that stops before its end marker raises; it
  never ends silently.

The stream methods are generators holding a connection: a caller that may stop reading early
(its own code raising mid-stream, say) closes them, ``with contextlib.closing(...)`` or
``async with contextlib.aclosing(...)``, so that the connection is released at once, on the
caller's task, rather than by the garbage collector, maybe after the event loop has ended.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from llmctl._sse import EventParser, NotAnEventStream, ServerSentEvent, check_event_stream
from llmctl.exceptions import (
    APIConnectionError,
    BadGatewayError,
    BadRequestError,
    ContextWindowExceededError,
    LLMCtlError,
    Timeout,
    error_for_status,
)
from llmctl.http_pool import LIMITS, aclose_clients, close_clients, pool
from llmctl.request import DEFAULT_TIMEOUT

__all__ = [
    "LIMITS",
    "TRANSPORT_ERRORS",
    "Endpoint",
    "ServerSentEvent",
    "aclose_clients",
    "close_clients",
]

#: How transport failures map to llmctl's errors, most specific first, and what each means.
TRANSPORT_ERRORS: Final[tuple[tuple[type[Exception], type[LLMCtlError], str], ...]] = (
    (NotAnEventStream, BadGatewayError, "answered without an event stream"),
    (httpx.PoolTimeout, Timeout, "had no free pooled connection in time (all were busy)"),
    (httpx.ConnectTimeout, Timeout, "did not accept the connection in time"),
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
    "context size",  # llama.cpp's llama-server: "the request exceeds the available context size"
)
#: The most of a backend's error body quoted in a message.
_QUOTE_LIMIT: Final = 500
#: The most lines (or events) read after a stream's end marker, so that its connection goes
#: back to the pool; a backend that sends more has the connection closed instead.
_DRAIN_LIMIT: Final = 64
#: What a streamed request accepts, per kind of stream (the call's own headers win).
_ACCEPT_SSE: Final = "text/event-stream"


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
    ) -> Generator[ServerSentEvent, None, None]:
        """Yield the server-sent events of one request as they arrive.

        The request says ``Accept: text/event-stream`` (unless the call's headers say
        otherwise); an answer of another content type raises :class:`BadGatewayError`.

        :param done: the ``data`` that ends the stream (not yielded); a stream that ends
            without it raises :class:`BadGatewayError`. ``None``: the body's end is the end.
        """
        url = self.url(path)
        with self._stream(method, url, json, accept=_ACCEPT_SSE) as response:
            check_event_stream(response)
            parser = EventParser()
            chunks = response.iter_bytes()
            for chunk in chunks:
                for event in parser.feed(chunk):
                    if done is not None and event.data == done:
                        _drain(chunks)
                        return
                    yield event
            for event in parser.end():
                if done is not None and event.data == done:
                    return
                yield event
        if done is not None:
            raise self._cut_short(method, url, f"before its {done!r} event")

    async def astream_sse(
        self, method: str, path: str, *, json: Any = None, done: str | None = "[DONE]"
    ) -> AsyncGenerator[ServerSentEvent, None]:
        """Yield the server-sent events of one request as they arrive; see :meth:`stream_sse`."""
        url = self.url(path)
        async with (
            self._astream(method, url, json, accept=_ACCEPT_SSE) as response,
            _aclosing(response.aiter_bytes()) as chunks,
        ):
            check_event_stream(response)
            parser = EventParser()
            # Decoded here from the bytes, rather than through httpx's text decoding and
            # httpx-sse's two generators per event.
            async for chunk in chunks:
                for event in parser.feed(chunk):
                    if done is not None and event.data == done:
                        await _adrain(chunks)
                        return
                    yield event
            for event in parser.end():
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
    ) -> Generator[Any, None, None]:
        """Yield each line of a newline-delimited JSON answer, decoded, as it arrives.

        Blank lines are skipped.

        :param until: true for the last object (Ollama's ``done: true``), which is yielded
            once the response is finished with; a stream that ends before one raises
            :class:`BadGatewayError`. ``None``: the body's end is the end.
        :raises BadGatewayError: a line is not JSON.
        """
        url = self.url(path)
        last: Any = _NOTHING
        with self._stream(method, url, json) as response:
            lines = response.iter_lines()
            for line in lines:
                if line.strip():
                    item = self._decode(method, url, line, "a line of its stream")
                    if until is not None and until(item):
                        _drain(lines)
                        last = item
                        break
                    yield item
        # the last object goes out after the response is closed: a caller that stops there
        # leaves the connection in the pool, not half-read
        if last is not _NOTHING:
            yield last
        elif until is not None:
            raise self._cut_short(method, url, "before its last object")

    async def astream_ndjson(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        until: Callable[[Any], bool] | None = None,
    ) -> AsyncGenerator[Any, None]:
        """Yield each decoded line of an NDJSON answer; see :meth:`stream_ndjson`."""
        url = self.url(path)
        last: Any = _NOTHING
        async with (
            self._astream(method, url, json) as response,
            _aclosing(response.aiter_lines()) as lines,
        ):
            async for line in lines:
                if line.strip():
                    item = self._decode(method, url, line, "a line of its stream")
                    if until is not None and until(item):
                        await _adrain(lines)
                        last = item
                        break
                    yield item
        if last is not _NOTHING:
            yield last
        elif until is not None:
            raise self._cut_short(method, url, "before its last object")

    def stream_text(
        self, method: str, path: str, *, json: Any = None
    ) -> Generator[str, None, None]:
        """Yield the text of a chunked answer as it arrives (the body's end is the end).

        The text is decoded as the response's charset says (UTF-8 when it says none); a
        character split between two chunks comes out whole.
        """
        url = self.url(path)
        with self._stream(method, url, json) as response:
            for text in response.iter_text():
                if text:
                    yield text

    async def astream_text(
        self, method: str, path: str, *, json: Any = None
    ) -> AsyncGenerator[str, None]:
        """Yield the text of a chunked answer as it arrives; see :meth:`stream_text`."""
        url = self.url(path)
        async with (
            self._astream(method, url, json) as response,
            _aclosing(response.aiter_text()) as texts,
        ):
            async for text in texts:
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
        is kept as the error's ``retry_after``. A redirect (3xx, which is not followed) is a
        :class:`BadGatewayError` naming where it leads.
        """
        said = _backend_message(response)
        status = response.status_code
        try:
            request: httpx.Request | None = response.request
        except RuntimeError:  # a response built by hand, not received
            request = None
        to = f" to {request.method} {request.url}" if request is not None else ""
        message = f"{self.provider} answered HTTP {status}{to}: {said}"
        error: LLMCtlError
        lowered = said.lower()
        if response.is_redirect:
            location = response.headers.get("location", "")
            error = BadGatewayError(
                f"{message}; it redirects to {location}, which is not followed: set api_base "
                "to the address it names",
                llm_provider=self.provider,
                model=self.model,
            )
        elif status == 400 and any(hint in lowered for hint in _CONTEXT_WINDOW_HINTS):
            error = ContextWindowExceededError(
                message, llm_provider=self.provider, model=self.model
            )
        else:
            error = error_for_status(status, message, llm_provider=self.provider, model=self.model)
        retry_after = response.headers.get("retry-after", "").strip()
        if retry_after.isdigit():
            error.retry_after = int(retry_after)
        return error

    def _answer(self, method: str, url: str, response: httpx.Response) -> Any:
        if _failed(response):
            raise self.error(response)
        return self._decode(method, url, response.content, "its answer")

    def _decode(self, method: str, url: str, text: str | bytes, what: str) -> Any:
        try:
            return json.loads(text)
        except ValueError:
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            quoted = _quote(text) if text.strip() else "(an empty body)"
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
        except (httpx.HTTPError, httpx.InvalidURL) as exc:  # InvalidURL is no HTTPError
            for source, target, meaning in TRANSPORT_ERRORS:
                if isinstance(exc, source):
                    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                    if target is Timeout:
                        detail += f"; timeout {_seconds(self.timeout)}: pass a larger timeout"
                    raise target(
                        f"{self.provider} at {self.base_url} {meaning} ({method} {url}; {detail})",
                        llm_provider=self.provider,
                        model=self.model,
                    ) from exc
            raise

    def _headers(self, accept: str | None) -> Mapping[str, str] | httpx.Headers:
        if accept is None:
            return self.headers
        headers = httpx.Headers({"Accept": accept})
        headers.update(self.headers)  # case-insensitive: the call's own Accept wins
        return headers

    @contextmanager
    def _stream(
        self, method: str, url: str, json: Any, *, accept: str | None = None
    ) -> Iterator[httpx.Response]:
        with (
            self._mapped(method, url),
            self._sync_client().stream(
                method, url, json=json, headers=self._headers(accept), timeout=self.timeout
            ) as response,
        ):
            if _failed(response):
                response.read()
                raise self.error(response)
            yield response

    @asynccontextmanager
    async def _astream(
        self, method: str, url: str, json: Any, *, accept: str | None = None
    ) -> AsyncIterator[httpx.Response]:
        client = await self._async_client()
        with self._mapped(method, url):
            async with client.stream(
                method, url, json=json, headers=self._headers(accept), timeout=self.timeout
            ) as response:
                if _failed(response):
                    await response.aread()
                    raise self.error(response)
                yield response

    # -- clients -------------------------------------------------------------------------------

    def _sync_client(self) -> httpx.Client:
        if isinstance(self.client, httpx.Client):
            return self.client
        return pool.sync_client(self.base_url)

    async def _async_client(self) -> httpx.AsyncClient:
        if isinstance(self.client, httpx.AsyncClient):
            return self.client
        return await pool.async_client(self.base_url)


#: Marks "no last object yet" in the NDJSON streams (``None`` is a JSON value).
_NOTHING: Final = object()


def _failed(response: httpx.Response) -> bool:
    """Whether a response is an error, or a redirect (which the pool's clients do not follow)."""
    return response.is_error or response.is_redirect


def _drain(rest: Iterator[Any]) -> None:
    """Read what follows a stream's end marker (normally just the body's end).

    A response read to its end gives its connection back to the pool; one closed half-read
    closes it, and the next call pays for a new connection (a TLS handshake, remotely).
    """
    try:
        for _ in itertools.islice(rest, _DRAIN_LIMIT):
            pass
    except httpx.HTTPError:
        pass  # the answer is complete; a broken tail costs the connection only


async def _adrain(rest: AsyncIterator[Any]) -> None:
    """Read what follows a stream's end marker; see :func:`_drain`."""
    try:
        for _ in range(_DRAIN_LIMIT):
            await anext(rest)
    except (StopAsyncIteration, httpx.HTTPError):
        pass


@asynccontextmanager
async def _aclosing(iterator: AsyncIterator[Any]) -> AsyncIterator[AsyncIterator[Any]]:
    """Close an async generator on exit, not when the garbage collector finds it."""
    try:
        yield iterator
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()


def _timeout(value: Any, provider: str) -> float | httpx.Timeout:
    if value is None:
        return DEFAULT_TIMEOUT
    if isinstance(value, httpx.Timeout):
        return value
    seconds: Any = value
    if isinstance(value, str):  # LiteLLM types timeout as float | str | httpx.Timeout
        with suppress(ValueError):
            seconds = float(value)
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool) and seconds > 0:
        return float(seconds)
    raise BadRequestError(
        f"timeout must be a positive number of seconds or an httpx.Timeout, got {value!r}",
        llm_provider=provider,
        param="timeout",
    )


def _seconds(timeout: float | httpx.Timeout) -> str:
    if isinstance(timeout, httpx.Timeout):
        parts = timeout.as_dict()
        return ", ".join(
            f"{name} {_seconds(value) if value else 'none'}" for name, value in parts.items()
        )
    return f"{timeout:g} s"


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
