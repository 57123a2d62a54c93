"""Run async handler code from sync callers and sync handler code from async callers.

Sync callers reach async code through one background event loop, so an async handler's
clients stay bound to a single loop across calls and a sync call works even from inside a
running loop. Async callers run sync code in worker threads, never on their event loop.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["iterate_in_thread", "iterate_sync", "run_in_thread", "run_sync"]

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()
_steps: ThreadPoolExecutor | None = None


def _forget_after_fork() -> None:
    # A forked child has the loop object but not its thread: start afresh when needed.
    global _loop, _loop_lock, _steps
    _loop, _loop_lock, _steps = None, threading.Lock(), None


os.register_at_fork(after_in_child=_forget_after_fork)


def _bridge_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="llmctl-bridge", daemon=True).start()
        return _loop


def _on_bridge_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def run_sync(awaitable: Awaitable[T]) -> T:
    """Wait for ``awaitable`` on the bridge loop from sync code and return its result."""

    async def wait() -> T:
        return await awaitable

    loop = _bridge_loop()
    if _on_bridge_loop(loop):
        # Sync code called by async code on the bridge loop: waiting there would deadlock,
        # so this one call runs on a loop of its own in a helper thread.
        with ThreadPoolExecutor(1) as executor:
            return executor.submit(asyncio.run, wait()).result()
    return asyncio.run_coroutine_threadsafe(wait(), loop).result()


def iterate_sync(iterable: AsyncIterable[T]) -> Iterator[T]:
    """Step an async iterable from sync code, one item per round trip to the bridge loop."""
    iterator = aiter(iterable)
    try:
        while True:
            try:
                yield run_sync(anext(iterator))
            except StopAsyncIteration:
                return
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            run_sync(aclose())


async def run_in_thread(func: Callable[..., T], /, **kwargs: Any) -> T:
    """Call ``func(**kwargs)`` in a worker thread, keeping the event loop free."""
    return await asyncio.to_thread(func, **kwargs)


_DONE = object()


def _next_or_done(iterator: Iterator[Any]) -> Any:
    return next(iterator, _DONE)


def _step_pool() -> ThreadPoolExecutor:
    global _steps
    if _steps is None:
        _steps = ThreadPoolExecutor(thread_name_prefix="llmctl-stream")
    return _steps


async def iterate_in_thread(iterable: Iterable[T]) -> AsyncIterator[T]:
    """Step a sync iterable in worker threads, as Starlette's ``iterate_in_threadpool`` does.

    Cancelled while a step runs (a client left, a timeout fired), it re-raises the
    cancellation at once and closes the iterator in the worker once that step returns: a
    generator cannot be closed while it is executing.
    """
    iterator = iter(iterable)
    step: Future[Any] | None = None
    try:
        while True:
            context = contextvars.copy_context()
            step = _step_pool().submit(context.run, _next_or_done, iterator)
            item = await asyncio.wrap_future(step)
            if item is _DONE:
                return
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            if step is not None and not step.done():
                step.add_done_callback(lambda _: close())
            else:
                await asyncio.to_thread(close)
