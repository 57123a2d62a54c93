"""Stop a handler's work when its time is up or its client has gone.

One :class:`CallGuard` per request. A timer bounds each wait (the answer, or the next chunk of
a stream). A wait still running after :data:`WATCH_AFTER` seconds also starts a task watching
for the client's disconnect: most answers come sooner, and so cost one timer, not a task.
Either the deadline or the disconnect cancels the request's task; the guard turns that
cancellation into the error to answer.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, Final

from starlette.types import Receive

from llmctl.exceptions import Timeout
from llmctl.proxy.errors import ClientDisconnected

__all__ = ["WATCH_AFTER", "CallGuard"]

#: Seconds a wait runs before the guard starts watching for the client's disconnect.
WATCH_AFTER: Final = 0.05


class CallGuard:
    """Cancel the current task on a deadline or on the client's disconnect.

    Use :meth:`wait` around each await that runs handler code, and :meth:`close` when the
    request is answered.

    :param receive: the request's ASGI ``receive``, its body already read.
    :param model: the public model name, for the timeout's message.
    """

    __slots__ = (
        "_deadline",
        "_loop",
        "_receive",
        "_task",
        "_timer",
        "_watcher",
        "disconnected",
        "expired",
        "model",
    )

    def __init__(self, receive: Receive, model: str) -> None:
        task = asyncio.current_task()
        assert task is not None, "a CallGuard runs inside a request's task"
        self._task = task
        self._loop = asyncio.get_running_loop()
        self._receive = receive
        self._timer: asyncio.TimerHandle | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._deadline = 0.0
        self.model = model
        self.expired = False
        self.disconnected = False

    async def wait(self, awaitable: Any, timeout: float) -> Any:
        """Await ``awaitable`` within ``timeout`` seconds while the client is connected.

        :raises Timeout: (504) the deadline passed first.
        :raises ClientDisconnected: the client went away first.
        """
        loop = self._loop
        self._deadline = loop.time() + timeout
        if self._watcher is None:
            self._timer = loop.call_later(min(timeout, WATCH_AFTER), self._tick)
        else:
            self._timer = loop.call_at(self._deadline, self._expire)
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
        if self._watcher is not None:
            self._watcher.cancel()

    def _tick(self) -> None:
        # The wait is taking a while: from now on, notice a client that leaves.
        if self._watcher is None:
            self._watcher = self._loop.create_task(self._watch())
        if self._loop.time() >= self._deadline:
            self._expire()
        else:
            self._timer = self._loop.call_at(self._deadline, self._expire)

    def _expire(self) -> None:
        self.expired = True
        self._task.cancel()

    async def _watch(self) -> None:
        while (await self._receive())["type"] != "http.disconnect":
            pass
        self.disconnected = True
        self._task.cancel()
