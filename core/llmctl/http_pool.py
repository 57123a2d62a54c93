"""The pooled HTTP clients of :mod:`llmctl.http`: one per backend address, reused by every call.

A sync client serves every thread. An async client belongs to the event loop that made it
(its connections do), so each loop has its own, closed when the loop ends.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import AsyncIterator
from typing import Final

import httpx

__all__ = ["LIMITS", "aclose_clients", "close_clients", "pool"]

#: Connection limits of the pooled clients: enough keep-alive connections for a proxy worker
#: serving many concurrent calls to one backend, so none is reopened per call.
LIMITS: Final = httpx.Limits(max_connections=512, max_keepalive_connections=128)


class _ClientPool:
    """The pooled clients: one sync client per base URL, one async client per (loop, URL).

    An async client belongs to the event loop that made it (its connections do), so each loop
    has its own; they are closed when the loop shuts its async generators down, as
    ``asyncio.run``, ``asyncio.Runner``, pytest-asyncio and uvicorn do on exit.
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
        #: Clients a forked child inherited: kept, unused, so that collecting them warns of
        #: nothing; their sockets are the parent's.
        self._inherited: list[object] = []

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
        """Close the sync clients; the next sync call opens a fresh one."""
        with self._lock:
            clients, self._sync = self._sync, {}
        for client in clients.values():
            client.close()

    async def aclose(self) -> None:
        """Close the running loop's async clients; its next call opens a fresh one."""
        clients = self._async.get(asyncio.get_running_loop())
        if clients:
            closing = list(clients.values())
            clients.clear()
            for client in closing:
                await client.aclose()

    def forget_after_fork(self) -> None:
        # A forked child shares its parent's sockets; both reading one connection would mix
        # their answers, so the child starts with no client (as the bridge loop does).
        self._inherited.append((self._sync, dict(self._async), dict(self._closers)))
        self._sync = {}
        self._lock = threading.Lock()
        self._async = weakref.WeakKeyDictionary()
        self._closers = weakref.WeakKeyDictionary()


async def _close_at_shutdown(clients: dict[str, httpx.AsyncClient]) -> AsyncIterator[None]:
    """Wait, suspended, until the loop shuts down its async generators; then close ``clients``."""
    try:
        yield
    finally:
        for client in list(clients.values()):
            await client.aclose()
        clients.clear()


#: The clients of every Endpoint (and only those: a caller's own client is never pooled).
pool: Final = _ClientPool()
if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=pool.forget_after_fork)


def close_clients() -> None:
    """Close the pooled sync clients now; the next call opens a fresh client.

    Async clients are left to their event loop, which closes them when it ends (closing them
    from here could break calls still running on it); :func:`aclose_clients` closes the
    running loop's now. Call it where a long-lived process changes backends, or in tests.
    """
    pool.close()


async def aclose_clients() -> None:
    """Close the pooled async clients of the running event loop now.

    Use it from async code that changes backends, or before a loop is closed without
    ``loop.shutdown_asyncgens()`` (``asyncio.run`` and uvicorn call it; they need nothing).
    Calls of that loop still running on these clients fail.
    """
    await pool.aclose()
