"""Stop a handler's work when its time is up or its client has gone.

One :class:`CallGuard` per request. A deadline bounds each wait (the answer, or the next chunk
of a stream). A wait still running after :data:`WATCH_AFTER` seconds (twice that at most)
also starts a task watching for the client's disconnect: most answers come sooner, and so
cost no task. Either the deadline or the disconnect cancels the request's task; the guard
turns that cancellation into the error to answer.

A request starts under the event loop's :class:`_Watchdog`, one timer for all requests that
looks every :data:`WATCH_AFTER` seconds for those that have lasted that long. Only such a
request gets a timer of its own: a timer per request cost quick answers about 3% of the
proxy's throughput (#5). That timer then serves every later wait: starting a wait only moves
the deadline, and the timer, when it fires early, re-arms itself for the deadline then
current. A stream's chunk thus costs a clock read, not a timer and a coroutine.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, Final, NoReturn

from starlette.types import Receive

from llmctl.exceptions import Timeout
from llmctl.proxy.errors import ClientDisconnected

__all__ = ["WATCH_AFTER", "CallGuard"]

#: Seconds a wait runs (at most twice as long) before the guard watches for the client's
#: disconnect.
WATCH_AFTER: Final = 0.05


class CallGuard:
    """Cancel the current task on a deadline or on the client's disconnect.

    Use :meth:`wait` around an await that runs handler code, or :meth:`begin`, the await,
    :meth:`raise_failure` on ``CancelledError`` and :meth:`end` where a coroutine per wait costs
    too much (a stream's chunks); call :meth:`close` when the request is answered.

    :param receive: the request's ASGI ``receive``, its body already read.
    :param model: the public model name, for the timeout's message.
    """

    __slots__ = (
        "_deadline",
        "_loop",
        "_receive",
        "_since",
        "_start",
        "_task",
        "_timeout",
        "_timer",
        "_waiting",
        "_watchdog",
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
        self._watchdog: _Watchdog | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._waiting = False
        self._since = 0.0
        self._start = -1.0  # the first wait's start; the loop's clock is never negative
        self._deadline = 0.0
        self._timeout = 0.0
        self.model = model
        self.expired = False
        self.disconnected = False

    async def wait(self, awaitable: Any, timeout: float) -> Any:
        """Await ``awaitable`` within ``timeout`` seconds while the client is connected.

        :raises Timeout: (504) the deadline passed first.
        :raises ClientDisconnected: the client went away first.
        """
        self.begin(timeout)
        try:
            return await awaitable
        except asyncio.CancelledError as cancelled:
            self.raise_failure(cancelled)
        finally:
            self.end()

    def begin(self, timeout: float) -> None:
        """Start a wait of at most ``timeout`` seconds."""
        now = self._loop.time()
        self._since = now
        self._deadline = now + timeout
        self._timeout = timeout
        self._waiting = True
        first_wait = self._start < 0.0
        if first_wait:
            self._start = now
        if self._timer is not None or self._watchdog is not None:
            return
        if first_wait and timeout >= 2 * WATCH_AFTER:
            # The watchdog looks at this wait within 2 * WATCH_AFTER: before its deadline.
            self._watchdog = _Watchdog.of(self._loop)
            self._watchdog.guards.add(self)
            return
        first = self._deadline if self._watcher is not None else now + WATCH_AFTER
        self._timer = self._loop.call_at(min(first, self._deadline), self._tick)

    def end(self) -> None:
        """End the wait :meth:`begin` started; the timer stays armed for the next one."""
        self._waiting = False
        self.expired = False

    def raise_failure(self, cancelled: asyncio.CancelledError) -> NoReturn:
        """Raise what a ``CancelledError`` caught during a wait stands for.

        :raises ClientDisconnected: the guard cancelled the task for the client leaving (it
            then uncancels the task).
        :raises Timeout: (504) the guard cancelled the task at the deadline.
        :raises CancelledError: ``cancelled`` itself, when the guard did not cancel the task:
            the server is shutting down, which is not the guard's to swallow.
        """
        if not (self.expired or self.disconnected):
            raise cancelled
        if sys.version_info >= (3, 11):
            self._task.uncancel()
        if self.disconnected:
            raise ClientDisconnected() from None
        raise Timeout(
            f"the model {self.model!r} did not answer within {self._timeout:g} s; raise "
            "litellm_params.timeout (or stream_timeout) in config.yaml if it needs longer",
            status_code=504,
            code="timeout",
        ) from None

    def close(self) -> None:
        """Stop the timer and stop watching the client."""
        if self._watchdog is not None:
            self._watchdog.guards.discard(self)
            self._watchdog = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._watcher is not None:
            self._watcher.cancel()

    def _tick(self) -> None:
        self._timer = None
        if not self._waiting:
            return  # between waits (a stream sending): the next wait re-arms
        now = self._loop.time()
        if now >= self._deadline:
            self.expired = True
            self._task.cancel()
            return
        if self._watcher is None:
            if now < self._since + WATCH_AFTER:
                self._timer = self._loop.call_at(self._since + WATCH_AFTER, self._tick)
                return
            # The wait is taking a while: from now on, notice a client that leaves.
            self._watcher = self._loop.create_task(self._watch())
        self._timer = self._loop.call_at(self._deadline, self._tick)

    async def _watch(self) -> None:
        while (await self._receive())["type"] != "http.disconnect":
            pass
        self.disconnected = True
        self._task.cancel()


class _Watchdog:
    """The timer of an event loop's guards whose requests have not yet lasted :data:`WATCH_AFTER`.

    It ticks every :data:`WATCH_AFTER` seconds while it has guards, and hands each guard whose
    request has lasted that long to the guard's own timer (a guard nobody closed, to none).
    """

    __slots__ = ("guards", "loop")

    #: The watchdog of each event loop that has guards.
    _running: Final[dict[asyncio.AbstractEventLoop, _Watchdog]] = {}

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.guards: set[CallGuard] = set()

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> _Watchdog:
        """Return ``loop``'s watchdog, starting one if it has none."""
        try:
            return cls._running[loop]
        except KeyError:
            watchdog = cls._running[loop] = cls(loop)
            loop.call_at(loop.time() + WATCH_AFTER, watchdog._tick)
            return watchdog

    def _tick(self) -> None:
        now = self.loop.time()
        for guard in list(self.guards):
            if now >= guard._start + WATCH_AFTER:
                self.guards.discard(guard)
                guard._watchdog = None
                if guard._waiting:
                    guard._tick()  # as the guard's own timer would have, from here on
        if self.guards:
            self.loop.call_at(now + WATCH_AFTER, self._tick)
        else:
            del self._running[self.loop]
