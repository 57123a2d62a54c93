"""Load points, durations, targets and server names shared by the proxy benchmark's modules."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Final

HERE: Final = Path(__file__).resolve().parent

#: The servers compared, in report order. ``llmctl-access-log`` is llmctl with its access log
#: on, measured at one load point only (:attr:`ProxyBenchConfig.access_log_connections`).
LLMCTL: Final = "llmctl"
LLMCTL_ACCESS_LOG: Final = "llmctl-access-log"
LITELLM: Final = "litellm"
CEILING: Final = "ceiling"
SERVERS: Final = (LLMCTL, LLMCTL_ACCESS_LOG, LITELLM, CEILING)
LABELS: Final = {
    LLMCTL: "llmctl",
    LLMCTL_ACCESS_LOG: "llmctl (access log on)",
    LITELLM: "LiteLLM",
    CEILING: "ceiling",
}

#: The model every request asks for (``model_name`` in both configs).
MODEL: Final = "bench-model"
#: What the handler answers: the whole JSON reply's content, and the streamed text.
TEXT: Final = "Hello from the benchmark handler"
STREAM_CHUNKS: Final = 20
STREAM_TEXT: Final = "tok " * STREAM_CHUNKS

#: Request kinds: the JSON body each sends.
KINDS: Final = {
    "json": {"model": MODEL, "messages": [{"role": "user", "content": "Say something."}]},
    "stream": {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Say something."}],
        "stream": True,
    },
}
KIND_LABELS: Final = {"json": "JSON", "stream": f"stream ({STREAM_CHUNKS} chunks)"}

#: llmctl's requests per second over the ceiling's must be at least this (per request kind).
RPS_TARGETS: Final = {"json": 0.60, "stream": 0.50}
#: llmctl's p99 latency over the ceiling's must be at most this.
P99_TARGET: Final = 2.0
#: llmctl's start-up (spawn to first successful ``GET /health/readiness``) must be under this.
STARTUP_TARGET_MS: Final = 1000.0

#: What the load generator's ``done()`` reports: wrk's error counters.
ERROR_KINDS: Final = ("connect", "read", "write", "status", "timeout")


@dataclass(frozen=True)
class ProxyBenchConfig:
    """How much load each round puts on each server."""

    #: Interleaved rounds; each starts every server afresh and measures every load point.
    rounds: int = 5
    #: Seconds of each measurement (wrk's ``-d``; whole seconds).
    duration_s: int = 5
    #: Seconds of load just before each measurement, not counted.
    warmup_s: int = 1
    #: Concurrent connections (wrk's ``-c``), one load point each, per request kind.
    connections: tuple[int, ...] = (8, 32, 64)
    #: wrk threads (``-t``).
    threads: int = 2
    #: wrk's per-request timeout in seconds; a slower reply counts as an error.
    timeout_s: int = 30
    #: The load point (connections) at which llmctl is also measured with its access log on.
    access_log_connections: int = 32
    #: Extra spawn-to-ready timings per server per round, besides the start that is measured.
    start_repeats: int = 1

    def scaled(self, factor: int) -> ProxyBenchConfig:
        """Return this configuration with each measurement ``factor`` times longer."""
        return dataclasses.replace(self, duration_s=self.duration_s * factor)


#: The default run: about 12 minutes on two cores, mostly wrk's fixed-length measurements.
FULL: Final = ProxyBenchConfig()

#: ``--quick``: checks that everything works, in about two minutes.
QUICK: Final = ProxyBenchConfig(rounds=3, duration_s=1, warmup_s=1, start_repeats=0)
