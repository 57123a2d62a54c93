"""Start, probe, check and stop the servers under test, one worker each, on 127.0.0.1.

Each server runs in its own session (``start_new_session``), so stopping it signals its
process group, which holds only what it spawned; its output goes to a log file, quoted when it
fails. Memory is the resident set of its whole process tree, read from ``/proc``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from benchmarks.core.run import MeasurementError
from benchmarks.proxy.config import KINDS, STREAM_CHUNKS, STREAM_TEXT, TEXT

HOST: Final = "127.0.0.1"
READY_PATH: Final = "/health/readiness"
CHAT_PATH: Final = "/v1/chat/completions"
#: Seconds a server may take to answer its first readiness probe (LiteLLM's first start after
#: its venv is built compiles its modules; later starts take a few seconds).
START_TIMEOUT_S: Final = 180.0
STOP_TIMEOUT_S: Final = 15.0
PROBE_INTERVAL_S: Final = 0.005


@dataclass(frozen=True)
class ServerSpec:
    """How to run one server: command (``{port}`` stands for the port), environment, directory."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    cwd: Path

    def command(self, port: int) -> list[str]:
        """Return the command line for a server listening on ``port``."""
        return [arg.replace("{port}", str(port)) for arg in self.argv]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on just now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """One running server process (and whatever it spawns)."""

    def __init__(self, spec: ServerSpec, log_path: Path, headers: Mapping[str, str]) -> None:
        self.spec = spec
        self.log_path = log_path
        self.headers = dict(headers)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The address wrk loads, ``http://127.0.0.1:PORT/v1/chat/completions``."""
        return f"http://{HOST}:{self.port}{CHAT_PATH}"

    def log_tail(self, lines: int = 40) -> str:
        """Return the last lines the server logged."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def start(self) -> float:
        """Spawn the server; return seconds from spawn to its first ready answer.

        :raises MeasurementError: it exited, or did not answer ``/health/readiness`` in time.
        """
        argv = self.spec.command(self.port)
        with self.log_path.open("ab") as log:
            started = time.perf_counter()
            self.process = subprocess.Popen(
                argv,
                cwd=self.spec.cwd,
                env=dict(self.spec.env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = started + START_TIMEOUT_S
        while True:
            if self._ready():
                return time.perf_counter() - started
            if self.process.poll() is not None:
                raise MeasurementError(
                    f"{self.spec.name} exited with {self.process.returncode} before it was "
                    f"ready; its log:\n{self.log_tail()}"
                )
            if time.perf_counter() > deadline:
                self.stop()
                raise MeasurementError(
                    f"{self.spec.name} was not ready after {START_TIMEOUT_S:.0f} s; its log:\n"
                    f"{self.log_tail()}"
                )
            time.sleep(PROBE_INTERVAL_S)

    def _ready(self) -> bool:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
        try:
            conn.request("GET", READY_PATH, headers=self.headers)
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def check_alive(self) -> None:
        """Check that the server is still running.

        :raises MeasurementError: it has exited.
        """
        if self.process is None or self.process.poll() is not None:
            code = None if self.process is None else self.process.returncode
            raise MeasurementError(
                f"{self.spec.name} exited ({code}) during the run; its log:\n{self.log_tail()}"
            )

    def stop(self) -> None:
        """Stop the server's process group: SIGTERM, then SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(STOP_TIMEOUT_S)
        _signal_group(process.pid, signal.SIGKILL)  # children it left behind, if any

    def rss_bytes(self) -> int:
        """Resident memory of the server and all its descendants, in bytes."""
        self.check_alive()
        assert self.process is not None
        return sum(_rss_bytes(pid) for pid in _tree(self.process.pid))

    def post(self, kind: str) -> tuple[int, bytes]:
        """Send the benchmark's request of ``kind``; return the status and the whole body."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            headers = {**self.headers, "Content-Type": "application/json"}
            conn.request("POST", CHAT_PATH, body=json.dumps(KINDS[kind]), headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def check_replies(self) -> dict[str, bytes]:
        """Check one reply of each kind says what the handler said; return the bodies.

        :raises MeasurementError: a reply is not a 200 with the handler's content.
        """
        bodies = {}
        for kind in KINDS:
            status, body = self.post(kind)
            problem = reply_problem(kind, status, body)
            if problem is not None:
                raise MeasurementError(
                    f"{self.spec.name} answered a {kind} request wrongly: {problem}\n"
                    f"body: {body[:600]!r}\nits log:\n{self.log_tail()}"
                )
            bodies[kind] = body
        return bodies


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, from the parent ids in ``/proc/*/stat``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the fields follow the last ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss_bytes(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def reply_problem(kind: str, status: int, body: bytes) -> str | None:
    """Say what is wrong with a reply to the benchmark's request of ``kind``, if anything."""
    if status != 200:
        return f"status {status}"
    if kind == "json":
        try:
            content = json.loads(body)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            return f"not a chat completion ({exc!r})"
        return None if content == TEXT else f"content {content!r}, not {TEXT!r}"
    events = stream_events(body)
    if not events or events[-1] != "[DONE]":
        return "the stream does not end with data: [DONE]"
    try:
        chunks = [json.loads(event) for event in events[:-1]]
        text = "".join(
            c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]
        )
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        return f"a stream event is not a chat.completion.chunk ({exc!r})"
    if len(chunks) < STREAM_CHUNKS:
        return f"{len(chunks)} chunks, not at least {STREAM_CHUNKS}"
    return None if text == STREAM_TEXT else f"streamed text {text!r}, not {STREAM_TEXT!r}"


def stream_events(body: bytes) -> list[str]:
    """Return the ``data:`` payloads of a server-sent event stream, in order."""
    events = []
    for block in body.decode().split("\n\n"):
        data = [line[5:].lstrip() for line in block.splitlines() if line.startswith("data:")]
        if data:
            events.append("\n".join(data))
    return events


def describe(specs: Sequence[ServerSpec]) -> dict[str, Any]:
    """Return the command line and directory of each server, for the results' metadata."""
    return {spec.name: {"argv": list(spec.argv), "cwd": str(spec.cwd)} for spec in specs}
