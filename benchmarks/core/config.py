"""Iteration counts, targets and measurement names shared by the runner and the workers."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Final

#: The LiteLLM release the targets were set against; the bench venv pins exactly this one.
LITELLM_VERSION: Final = "1.110.2"

#: Libraries measured by default, in the order each round runs them.
DEFAULT_LIBS: Final = ("llmctl", "litellm")

#: Pseudo-library name of the worker that calls the handler directly, with no library imported.
FLOOR: Final = "floor"

#: Environment every subprocess gets (LiteLLM must not fetch its cost map over the network).
SUBPROCESS_ENV: Final = {"LITELLM_LOCAL_MODEL_COST_MAP": "True"}


@dataclass(frozen=True)
class Metric:
    """One timed quantity: its JSON key, its label, its unit and its target (if any)."""

    key: str
    label: str
    unit: str
    #: Minimum ratio LiteLLM overhead / llmctl overhead; ``None`` for informational rows.
    target: float | None


#: Per-operation measurements taken by the workers, in report order (all in microseconds).
WORKER_METRICS: Final = (
    Metric("sync_call", "`completion` per call", "µs/call", 50.0),
    Metric("async_call", "`acompletion` per call (sequential awaits)", "µs/call", 50.0),
    Metric("async_gather", "`acompletion` per call (`asyncio.gather` batches)", "µs/call", None),
    Metric("sync_chunk", "`completion(stream=True)` per chunk", "µs/chunk", 20.0),
    Metric("async_chunk", "`acompletion(stream=True)` per chunk", "µs/chunk", 10.0),
)

#: The whole-process import measurement (milliseconds); its target compares whole wall times.
IMPORT_METRIC: Final = Metric(
    "import", '`python -c "from X import CustomLLM, completion"` whole process', "ms", 20.0
)


@dataclass(frozen=True)
class BenchConfig:
    """How much work each round does. Every count is per round and per library."""

    #: Interleaved rounds; each spawns one fresh worker per library plus one floor worker.
    rounds: int = 5
    #: Whole-process import timings per library per round (plus as many of ``python -c pass``).
    import_repeats: int = 2
    #: Sync ``completion`` calls timed per round.
    sync_calls: int = 1500
    #: Sequential ``await acompletion`` calls timed per round.
    async_calls: int = 1500
    #: Calls timed per round through ``asyncio.gather``, in batches of ``gather_batch``.
    gather_calls: int = 1000
    gather_batch: int = 50
    #: Whole streams consumed per round, sync and async.
    sync_streams: int = 10
    async_streams: int = 30
    #: Chunks the handler yields per stream (the last one finishes the stream).
    chunks: int = 200
    #: Each timed quantity is split into this many batches; a round reports their median.
    batches: int = 5
    #: Untimed calls (and streams) before timing, so lazy imports and caches are warm.
    warmup_calls: int = 30
    #: The floor is cheap and noisy, so it does this many times more work than a library.
    floor_factor: int = 20

    def to_json(self) -> str:
        """Serialize for the worker command line."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> BenchConfig:
        """Inverse of :meth:`to_json`."""
        return cls(**json.loads(text))

    def scaled(self, factor: int) -> BenchConfig:
        """Return this configuration with every timed count multiplied by ``factor``."""
        return dataclasses.replace(
            self,
            sync_calls=self.sync_calls * factor,
            async_calls=self.async_calls * factor,
            gather_calls=self.gather_calls * factor,
            sync_streams=self.sync_streams * factor,
            async_streams=self.async_streams * factor,
        )


#: The default (full) run: about 2-4 minutes on two noisy cores, mostly LiteLLM's import time.
FULL: Final = BenchConfig()

#: ``--quick``: a smoke run that checks everything works, in well under a minute.
QUICK: Final = BenchConfig(
    rounds=2,
    import_repeats=1,
    sync_calls=150,
    async_calls=150,
    gather_calls=100,
    gather_batch=25,
    sync_streams=2,
    async_streams=4,
    chunks=100,
    batches=2,
    warmup_calls=10,
    floor_factor=10,
)
