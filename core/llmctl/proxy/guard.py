"""Stop a handler's work when its time is up or its client has gone.

One :class:`CallGuard` per request: a task watching for the client's disconnect, and a
timer re-armed around each wait (the answer, or the next chunk of a stream). Either one
cancels the request's task; the guard turns that cancellation into the error to answer.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from starlette.types import Receive

from llmctl.exceptions import Timeout
from llmctl.proxy.errors import ClientDisconnected

__all__ = ["CallGuard"]


class CallGuard:
    """Cancel the current task on a deadline or on the client's disconnect.

    Use :meth:`wait` around each await that runs handler code, and :meth:`close` when the
    request is answered.

    :param receive: the request's ASGI ``receive``, its body already read.
    :param model: the public model name, for the timeout's message.
    """

    __slots__ = ("_loop", "_task", "_timer", "_watcher", "disconnected", "expired", "model")

    def __init__(self, receive: Receive, model: str) -> None:
        task = asyncio.current_task()
        assert task is not None, "a CallGuard runs inside a request's task"
        self._task = task
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._watcher = self._loop.create_task(self._watch(receive))
        self.model = model
        self.expired = False
        self.disconnected = False

    async def wait(self, awaitable: Any, timeout: float) -> Any:
        """Await ``awaitable`` within ``timeout`` seconds while the client is connected.

        :raises Timeout: (504) the deadline passed first.
        :raises ClientDisconnected: the client went away first.
        """
        self._timer = self._loop.call_later(timeout, self._expire)
        try:
            return await awaitable
        except asyncio.CancelledError:
            if not (self.expired or self.disconnected):
                raise  # the server is shutting down: not ours to swallow
            if sys.version_info >= (3, 11):
                self._task.uncancel()
            if self.disconnected:
                raise ClientDisconnected() from None
            raise Timeout(
                f"the model {self.model!r} did not answer within {timeout:g} s; raise "
                "litellm_params.timeout (or stream_timeout) in config.yaml if it needs longer",
                status_code=504,
                code="timeout",
            ) from None
        finally:
            self._timer.cancel()
            self.expired = False

    def close(self) -> None:
        """Stop watching the client."""
        self._watcher.cancel()

    def _expire(self) -> None:
        self.expired = True
        self._task.cancel()

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.disconnected = True
        self._task.cancel()
