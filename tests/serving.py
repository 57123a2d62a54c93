"""Start ``llmctl serve`` as a real process on 127.0.0.1 and talk to it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

import httpx

_RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


class ProxyProcess:
    """``python -m llmctl serve ARGS --port 0``, its port read from its log.

    Its stderr is collected in :attr:`log` (a thread drains it, so the pipe never fills).
    """

    def __init__(self, args: Sequence[str], *, env: dict[str, str] | None = None) -> None:
        self.args = [sys.executable, "-m", "llmctl", "serve", *args]
        self.env = {**os.environ, **(env or {})}
        self.lines: list[str] = []
        self.port: int | None = None
        self._ready = threading.Event()
        self.process: subprocess.Popen[str] | None = None

    @property
    def log(self) -> str:
        """Everything the server has logged so far."""
        return "".join(self.lines)

    @property
    def url(self) -> str:
        """The server's base address, ``http://127.0.0.1:PORT``."""
        assert self.port is not None, "the server is not running"
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> ProxyProcess:
        """Start the server and wait until it listens.

        :raises RuntimeError: it exited or did not listen in time; the message holds its log.
        """
        self.process = subprocess.Popen(
            [*self.args, "--port", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + timeout
        if not self._ready.wait(timeout) or self.port is None:
            self.stop()
            raise RuntimeError(f"llmctl serve did not start:\n{self.log}")
        # With --workers, the supervisor listens before its workers can answer.
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health/readiness").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"llmctl serve never became ready:\n{self.log}")

    def _drain(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            match = _RUNNING.search(line)
            if match:
                self.port = int(match.group(1))
                self._ready.set()
        self._ready.set()  # exited before listening

    def wait_for_log(self, pattern: str, timeout: float = 10) -> bool:
        """Wait until a log line matches ``pattern``; return whether one did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.log):
                return True
            time.sleep(0.05)
        return False

    def stop(self, timeout: float = 15) -> int:
        """Send SIGTERM (a graceful shutdown) and return the exit status."""
        process = self.process
        assert process is not None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr is not None:
            process.stderr.close()
        return process.returncode

    def client(self, **kwargs: object) -> httpx.Client:
        """Return an httpx client for this server."""
        kwargs.setdefault("timeout", 30)
        return httpx.Client(base_url=self.url, **kwargs)  # type: ignore[arg-type]


def run_serve(
    args: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run ``llmctl serve`` expecting it to exit (a refused start), and return the result."""
    return subprocess.run(
        [sys.executable, "-m", "llmctl", "serve", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
