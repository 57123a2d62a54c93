"""Run async handler code from sync callers and sync handler code from async callers.

Sync callers reach async code through one background event loop, so an async handler's
clients stay bound to a single loop across calls and a sync call works even from inside a
running loop. Async callers run sync code in worker threads, never on their event loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

__all__ = ["iterate_in_thread", "iterate_sync", "run_in_thread", "run_sync"]

T = TypeVar("T")

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _bridge_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="llmctl-bridge", daemon=True).start()
        return _loop


def run_sync(awaitable: Awaitable[T]) -> T:
    """Wait for ``awaitable`` on the bridge loop and return its result."""

    async def wait() -> T:
        return await awaitable

    loop = _bridge_loop()
    if threading.current_thread().name == "llmctl-bridge":
        # Called from async code already on the bridge loop: waiting there would deadlock.
        with ThreadPoolExecutor(1) as executor:
            return executor.submit(asyncio.run, wait()).result()
    return asyncio.run_coroutine_threadsafe(wait(), loop).result()


def iterate_sync(iterable: AsyncIterable[T]) -> Iterator[T]:
    """Step an async iterable from sync code, one item per round trip to the bridge loop."""
    iterator = aiter(iterable)
    loop = _bridge_loop()
    try:
        while True:
            try:
                yield asyncio.run_coroutine_threadsafe(_next(iterator), loop).result()
            except StopAsyncIteration:
                return
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            asyncio.run_coroutine_threadsafe(aclose(), loop).result()


async def _next(iterator: AsyncIterator[T]) -> T:
    return await anext(iterator)


async def run_in_thread(func: Callable[..., T], /, **kwargs: Any) -> T:
    """Call ``func(**kwargs)`` in a worker thread, keeping the event loop free."""
    return await asyncio.to_thread(func, **kwargs)


_DONE = object()


async def iterate_in_thread(iterable: Iterable[T]) -> AsyncIterator[T]:
    """Step a sync iterable in worker threads, as Starlette's ``iterate_in_threadpool`` does."""
    iterator = iter(iterable)
    try:
        while True:
            item = await asyncio.to_thread(next, iterator, _DONE)
            if item is _DONE:
                return
            yield item  # type: ignore[misc]
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            await asyncio.to_thread(close)
