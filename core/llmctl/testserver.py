"""A real HTTP server on 127.0.0.1 for tests: an ASGI app on uvicorn, in a background thread.

Plugin tests run their fake backend (written from the backend's documentation) with it, so the
plugin is exercised over real sockets::

    from llmctl.testserver import LoopbackServer

    with LoopbackServer(fake_ollama_app) as server:
        llmctl.completion(model="ollama/llama3", messages=..., api_base=server.url)

It needs uvicorn (``pip install 'llmctl[testing]'``); llmctl itself never imports this module.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from types import TracebackType
from typing import Any, Final

try:
    import uvicorn
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "llmctl.testserver runs uvicorn; install it with: pip install 'llmctl[testing]'"
    ) from exc

__all__ = ["LoopbackServer"]

#: Seconds to wait for the server to bind its port, and to finish on exit.
_START_TIMEOUT: Final = 10.0


class _QuietCancellation(logging.Filter):
    """Drop uvicorn's report of a handler cancelled because the server stops.

    A fake backend still sleeping for a test of timeouts is cancelled on exit; uvicorn logs
    that as "Exception in ASGI application" with a traceback, which is no failure of the app.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, asyncio.CancelledError)


class LoopbackServer:
    """Serve an ASGI app on 127.0.0.1 at a free port until the ``with`` block ends.

    :param app: the ASGI application (a Starlette app, say).
    :param kwargs: more ``uvicorn.Config`` settings (``timeout_keep_alive``, ...); they may
        replace the defaults (``log_level="warning"``, ``log_config=None``: the process's
        logging shows uvicorn's records, ``lifespan="off"``, ``port=0`` for a free port), but
        the host stays 127.0.0.1.
    """

    def __init__(self, app: Any, **kwargs: Any) -> None:
        # log_config None: uvicorn's records go to the process's own logging (pytest shows
        # them with a failure) instead of uvicorn replacing the handlers of its loggers
        settings: dict[str, Any] = {
            "port": 0,
            "log_level": "warning",
            "log_config": None,
            "lifespan": "off",
        }
        settings.update(kwargs, host="127.0.0.1")
        self._server = uvicorn.Server(uvicorn.Config(app, **settings))
        self._thread = threading.Thread(target=self._run, name="llmctl-loopback", daemon=True)
        self._failure: BaseException | None = None
        #: The server's address, ``http://127.0.0.1:<port>``, once started.
        self.url = ""

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve())
        except BaseException as exc:  # reported by start(); a thread cannot raise to its caller
            self._failure = exc

    def start(self) -> LoopbackServer:
        """Start serving and wait until the port is bound.

        :raises RuntimeError: the server did not start within 10 seconds, or failed.
        """
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if self._failure is not None or not self._thread.is_alive():
                why = repr(self._failure)
                if isinstance(self._failure, SystemExit):  # uvicorn logged the reason
                    why += " (the uvicorn.error log says why: a port in use, say)"
                raise RuntimeError(f"the loopback server failed to start: {why}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the loopback server did not start in {_START_TIMEOUT} s")
            time.sleep(0.005)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        """Stop serving (open connections are closed) and wait until the port is free.

        :raises RuntimeError: the server did not stop within 10 seconds.
        """
        if not self._thread.is_alive():
            return  # never started, or already stopped
        quiet = _QuietCancellation()
        logger = logging.getLogger("uvicorn.error")
        logger.addFilter(quiet)
        try:
            self._server.should_exit = True
            self._server.force_exit = True
            self._thread.join(_START_TIMEOUT)
        finally:
            logger.removeFilter(quiet)
        if self._thread.is_alive():
            raise RuntimeError(
                f"the loopback server at {self.url} did not stop in {_START_TIMEOUT} s"
            )

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
