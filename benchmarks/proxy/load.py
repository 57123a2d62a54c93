"""The load generator: wrk, with ``post.lua`` reporting each run as one JSON line.

wrk is a Debian package (``apt-get install wrk``). When it is missing, the run installs it
with apt-get if it runs as root, and otherwise stops with the command to run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import Any, Final

from benchmarks.core.run import MeasurementError
from benchmarks.proxy.config import ERROR_KINDS, HERE, KINDS, ProxyBenchConfig

SCRIPT: Final = HERE / "post.lua"
RESULT_PREFIX: Final = "BENCH_RESULT "
APT_TIMEOUT_S: Final = 600


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ensure_wrk() -> str:
    """Return the path of ``wrk``, installing the Debian package first if needed and allowed.

    :raises MeasurementError: wrk is missing and cannot be installed from here.
    """
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise MeasurementError(
            "the proxy benchmark needs wrk, the HTTP load generator, and it is not installed; "
            "install it (Debian/Ubuntu: `sudo apt-get install wrk`; macOS: `brew install wrk`) "
            "and rerun"
        )
    _log("wrk is not installed; installing it with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in ([apt, "update", "-q"], [apt, "install", "-y", "-q", "wrk"]):
        proc = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=APT_TIMEOUT_S, check=False
        )
        if proc.returncode != 0:
            raise MeasurementError(
                f"`{' '.join(argv)}` failed (exit {proc.returncode}); install wrk by hand and "
                f"rerun:\n{proc.stderr[-2000:]}"
            )
    found = shutil.which("wrk")
    if found is None:
        raise MeasurementError("apt-get installed wrk, yet it is not on PATH")
    return found


def wrk_version(wrk: str) -> str:
    """Return the first line wrk prints about itself (its version, with its usage)."""
    proc = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    return (
        (proc.stdout or proc.stderr).splitlines()[0].strip() if proc.stdout or proc.stderr else ""
    )


def run_wrk(
    wrk: str,
    url: str,
    *,
    kind: str,
    connections: int,
    seconds: int,
    cfg: ProxyBenchConfig,
    key: str,
) -> dict[str, Any]:
    """Load ``url`` with requests of ``kind`` for ``seconds``; return wrk's figures.

    The result holds ``requests``, ``rps``, ``p50_ms``, ``p99_ms`` (and p90, max, mean),
    ``bytes_per_response`` and the error counts, ``errors`` being their sum.

    :raises MeasurementError: wrk failed or printed no result.
    """
    argv = [
        wrk,
        f"-t{min(cfg.threads, connections)}",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={cfg.timeout_s}s",
        "-s",
        str(SCRIPT),
        url,
    ]
    env = {**os.environ, "BENCH_BODY": json.dumps(KINDS[kind]), "BENCH_KEY": key}
    proc = subprocess.run(
        argv,
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + cfg.timeout_s + 30,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if proc.returncode != 0 or not lines:
        raise MeasurementError(
            f"wrk failed (exit {proc.returncode}) on {url}:\n{proc.stderr}{proc.stdout}"
        )
    raw: dict[str, float] = json.loads(lines[-1][len(RESULT_PREFIX) :])
    requests = raw["requests"]
    elapsed = raw["duration_us"] / 1e6
    return {
        "requests": int(requests),
        "seconds": elapsed,
        "rps": requests / elapsed if elapsed > 0 else 0.0,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "mean_ms": raw["mean_us"] / 1000,
        "bytes_per_response": raw["bytes"] / requests if requests else 0.0,
        **{f"{name}_errors": int(raw[name]) for name in ERROR_KINDS},
        "errors": int(sum(raw[name] for name in ERROR_KINDS)),
    }
