"""``python -m llmctl serve --config ... --port 0`` as a real process, its port read from its log.

The plugin's own small equivalent of the core tests' ``tests/serving.py``, which it cannot
import.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

_RUNNING = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


class LlmctlServe:
    """The proxy serving ``config``; its stderr is kept in :attr:`lines`."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.lines: list[str] = []
        self.port: int | None = None
        self._listening = threading.Event()
        self._process: subprocess.Popen[str] | None = None
        self._drainer = threading.Thread(target=self._drain, daemon=True)

    @property
    def url(self) -> str:
        assert self.port is not None, "the proxy is not running"
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> LlmctlServe:
        """Start it and wait until it answers its readiness probe; raise with its log if not."""
        command = [sys.executable, "-m", "llmctl", "serve", "--config", str(self.config)]
        self._process = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", "0", "--no-access-log"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._drainer.start()
        deadline = time.monotonic() + timeout
        if self._listening.wait(timeout) and self.port is not None:
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{self.url}/health/readiness").status_code == 200:
                        return self
                except httpx.TransportError:
                    time.sleep(0.05)
        self.stop()
        raise RuntimeError("llmctl serve did not start:\n" + "".join(self.lines))

    def _drain(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        for line in self._process.stderr:
            self.lines.append(line)
            match = _RUNNING.search(line)
            if match:
                self.port = int(match.group(1))
                self._listening.set()
        self._listening.set()  # it exited before listening

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL after 15 seconds) and close its pipe."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._drainer.join(5)  # reads the log to its end, then the pipe can close
        assert process.stderr is not None
        process.stderr.close()
