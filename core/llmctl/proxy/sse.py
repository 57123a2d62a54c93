"""Server-sent events as OpenAI sends them: ``data: {chunk}``, blank line, ``data: [DONE]``.

The status is decided before the first byte: a stream starts only once its first chunk is
ready, so an error before it is answered with its own status. An error after it is sent as
a ``data: {"error": ...}`` event and the stream still ends with ``[DONE]``: it never ends silently.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import AsyncIterator, Callable
from time import perf_counter
from typing import Any, Final

from pydantic import BaseModel
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from llmctl.exceptions import LLMCtlError, from_handler_exception
from llmctl.proxy.errors import ClientDisconnected
from llmctl.proxy.guard import CallGuard
from llmctl.proxy.tracing import SERVER_SEND

__all__ = ["DONE", "TURN", "EventStream", "encode", "encode_without_usage"]

_logger = logging.getLogger("llmctl.proxy")

#: Seconds a stream may keep the event loop before it lets other requests run. A handler
#: with its next chunks at hand (a buffered backend read, a prebuilt answer) would otherwise
#: send its whole stream in one go while every other request waits: at 64 connections that
#: made llmctl's p99 latency 5x to 10x the ceiling's (#5). Yielding after every event instead
#: costs about 2 us each.
TURN: Final = 0.0001

#: The event that ends every stream.
DONE: Final = b"data: [DONE]\n\n"

_HEADERS: Final = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
]


def encode(chunk: BaseModel) -> bytes:
    """Return one chunk as an SSE event, serialised once."""
    return b"data: " + chunk.__pydantic_serializer__.to_json(chunk) + b"\n\n"


def encode_without_usage(chunk: BaseModel) -> bytes:
    """Return a chunk as an event without usage, as OpenAI streams without include_usage."""
    if chunk.usage is not None:  # type: ignore[attr-defined]
        chunk.usage = None  # type: ignore[attr-defined]
    return encode(chunk)


class EventStream(Response):
    """A 200 response streaming the events of a chat or text completion.

    :param first: the first event, already computed (it decided the status).
    :param rest: the stream's remaining chunks.
    :param convert: turns a chunk into its event bytes.
    :param guard: the request's guard: bounds each wait and notices the client leaving.
    :param timeout: seconds to wait for each chunk.
    :param close: closes the handler's stream (its generator's ``finally`` runs).
    """

    def __init__(
        self,
        first: bytes,
        rest: AsyncIterator[Any],
        convert: Callable[[Any], bytes],
        *,
        guard: CallGuard,
        timeout: float,
        close: Callable[[], Any],
    ) -> None:
        self.status_code = 200
        self.background = None
        self.raw_headers = list(_HEADERS)
        self._first = first
        self._rest = rest
        self._convert = convert
        self._guard = guard
        self._timeout = timeout
        self._close = close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the events; stop the handler's stream if the client leaves."""
        guard = self._guard
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            send = scope.get(SERVER_SEND, send)  # the middleware only look at the start
            await send({"type": "http.response.body", "body": self._first, "more_body": True})
            await self._send_rest(send)
        except (ClientDisconnected, OSError):
            return  # nobody to tell; the finally below stops the handler
        except asyncio.CancelledError:
            if not guard.disconnected:
                raise
            if sys.version_info >= (3, 11):
                asyncio.current_task().uncancel()  # type: ignore[union-attr]
        finally:
            guard.close()
            await self._close()

    async def _send_rest(self, send: Send) -> None:
        rest, convert, guard, timeout = self._rest, self._convert, self._guard, self._timeout
        turn = perf_counter()
        try:
            while True:
                # guard.wait() inlined: a coroutine per chunk is measurable (#5).
                guard.begin(timeout)
                try:
                    chunk = await anext(rest)
                except StopAsyncIteration:
                    break
                except asyncio.CancelledError as cancelled:
                    guard.raise_failure(cancelled)
                finally:
                    guard.end()
                await send(
                    {"type": "http.response.body", "body": convert(chunk), "more_body": True}
                )
                if perf_counter() - turn > TURN:
                    await asyncio.sleep(0)  # let the other requests have a turn
                    turn = perf_counter()
        except ClientDisconnected:
            raise
        except Exception as exc:
            error = (
                exc
                if isinstance(exc, LLMCtlError)
                else from_handler_exception(exc, llm_provider=None, model=guard.model)
            )
            _logger.warning("stream of %r failed after its first chunk: %s", guard.model, error)
            # A data event holding {"error": ...}: what OpenAI's SDKs raise as an APIError.
            event = b"data: " + json.dumps(error.to_dict()).encode() + b"\n\n"
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": DONE, "more_body": False})
