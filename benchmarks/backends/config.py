"""Clients, load points, counts and the target shared by the backends benchmark's modules.

Stdlib only: the LiteLLM worker imports it from LiteLLM's venv, which has no llmctl.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

HERE: Final = Path(__file__).resolve().parent

#: The clients compared, in report order. ``raw`` is a bare ``httpx.AsyncClient``.
RAW: Final = "raw"
LLMCTL: Final = "llmctl"
LITELLM: Final = "litellm"
CLIENTS: Final = (RAW, LLMCTL, LITELLM)
LABELS: Final = {RAW: "raw httpx", LLMCTL: "llmctl", LITELLM: "LiteLLM"}

#: The plugin under test: its distribution, its directory in this repository, its provider.
PLUGIN_DIST: Final = "llmctl-openai-compatible"
PLUGIN_DIR: Final = HERE.parents[1] / "plugins" / PLUGIN_DIST
PROVIDER: Final = "openai_compatible"
#: LiteLLM's provider for an OpenAI-compatible server (``api_base`` ends in ``/v1`` for it).
LITELLM_PROVIDER: Final = "hosted_vllm"

#: What the fake server answers: the JSON reply's content, and each streamed chunk's text.
TEXT: Final = "Hello from the fake backend"
CHUNK_TEXT: Final = "tok "
#: The request every client sends (the model name picks the stream's length, ``m20``).
MESSAGES: Final = [{"role": "user", "content": "Say something."}]
JSON_MODEL: Final = "m"
#: Sent as ``Authorization: Bearer ...`` by every client (LiteLLM insists on a key).
API_KEY: Final = "sk-bench-backends"

#: The pooled client's limits, as ``llmctl.http.LIMITS`` has them (the llmctl worker checks):
#: the raw client gets the same pool, so neither reopens connections the other keeps.
MAX_CONNECTIONS: Final = 512
MAX_KEEPALIVE_CONNECTIONS: Final = 128

#: llmctl's time over raw httpx's must be under this (issue 6), per call and per chunk.
TARGET: Final = 1.15
#: The concurrency at which the target is judged; other concurrencies are reported only.
JUDGED_CONCURRENCY: Final = 32


def stream_model(chunks: int) -> str:
    """Return the model name that asks the fake server for a stream of ``chunks`` chunks."""
    return f"m{chunks}"


def kind_key(chunks: int | None) -> str:
    """Return the key of a request kind: ``json``, or ``stream20`` for 20-chunk streams."""
    return "json" if chunks is None else f"stream{chunks}"


def point_key(chunks: int | None, concurrency: int) -> str:
    """Return the key of one measurement, ``json-c32`` or ``stream100-c1``."""
    return f"{kind_key(chunks)}-c{concurrency}"


@dataclass(frozen=True)
class BackendsBenchConfig:
    """How much work each worker does. Counts are per measurement, per client, per round."""

    #: Interleaved rounds; each runs one fresh worker per client, the order rotating.
    rounds: int = 5
    #: Concurrent calls (tasks sharing one client), one measurement each per request kind.
    concurrency: tuple[int, ...] = (32, 1)
    #: Chunks per stream (content chunks; a usage event and ``[DONE]`` follow them).
    stream_chunks: tuple[int, ...] = (20, 100)
    #: Non-streaming calls per measurement at the highest concurrency.
    calls: int = 3000
    #: Streamed chunks per measurement at the highest concurrency (streams = this / chunks).
    chunks: int = 30000
    #: Lower concurrencies do this many times less work (a serial call waits on each reply).
    serial_divisor: int = 3
    #: LiteLLM does this many times less work (it is much slower; it is reported, not judged).
    litellm_divisor: int = 5
    #: Each measurement is split into this many batches; a worker reports their median.
    batches: int = 5
    #: Untimed calls (and streams) of every kind before timing, at the highest concurrency.
    warmup_calls: int = 200

    def to_json(self) -> str:
        """Serialize for the worker command line."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> BackendsBenchConfig:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        data["concurrency"] = tuple(data["concurrency"])
        data["stream_chunks"] = tuple(data["stream_chunks"])
        return cls(**data)

    def scaled(self, factor: int) -> BackendsBenchConfig:
        """Return this configuration with every timed count multiplied by ``factor``."""
        return dataclasses.replace(self, calls=self.calls * factor, chunks=self.chunks * factor)

    def operations(self, chunks: int | None, concurrency: int, client: str) -> int:
        """Return the calls (or streams) in one batch of a measurement: at least one per task."""
        total = self.calls if chunks is None else self.chunks // chunks
        if concurrency < max(self.concurrency):
            total //= self.serial_divisor
        if client == LITELLM:
            total //= self.litellm_divisor
        return max(concurrency, total // self.batches)


#: The default run: about 4 minutes on two cores.
FULL: Final = BackendsBenchConfig()

#: ``--quick``: checks that everything works, in about a minute.
QUICK: Final = BackendsBenchConfig(
    rounds=2, calls=600, chunks=6000, batches=2, warmup_calls=64, litellm_divisor=10
)
