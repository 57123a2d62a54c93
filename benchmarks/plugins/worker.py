"""Times ``llmctl.completion`` to an entry-point provider, inside one benchmark venv.

Run by :mod:`benchmarks.plugins.run` with a venv's interpreter, from the repository root::

    <venv>/bin/python -m benchmarks.plugins.worker --config '<json>' --out result.json

It imports llmctl (installed in the venv, with 1 or 50 provider plugins), makes the first call
to provider ``p0`` (entry point discovery and the plugin's import, timed once), checks the
answer, and then alternates batches of ``llmctl.completion(model="p0/m", ...)`` with batches of
the plugin's own ``handler.completion(...)`` called directly (the floor), and the same for
``acompletion``. Every figure is microseconds per call, one per batch.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from benchmarks.core.handlers import MESSAGES
from benchmarks.core.worker import _asettle, _settle, time_async_calls, time_sync_calls
from benchmarks.plugins.config import GROUP, MODEL, PluginBenchConfig
from benchmarks.plugins.wheels import module_name, response_text

Samples = dict[str, list[float]]


def _check(what: str, response: Any) -> None:
    content = response.choices[0].message.content
    if content != response_text(0):
        raise AssertionError(f"{what}: unexpected content {content!r}, not from plugin p0")


def alternate_sync(calls: dict[str, tuple[Callable[[], object], int]], batches: int) -> Samples:
    """Time one batch of each call in turn, ``batches`` times; per-call microseconds."""
    out: Samples = {key: [] for key in calls}
    for _ in range(batches):
        for key, (call, size) in calls.items():
            out[key] += time_sync_calls(call, size, 1)
    return out


async def alternate_async(
    calls: dict[str, tuple[Callable[[], Awaitable[object]], int]], batches: int
) -> Samples:
    """Async :func:`alternate_sync`: each batch is ``size`` sequential awaits."""
    out: Samples = {key: [] for key in calls}
    for _ in range(batches):
        for key, (call, size) in calls.items():
            out[key] += await time_async_calls(call, size, 1)
    return out


def measure(llmctl: Any, handler: Any, cfg: PluginBenchConfig) -> Samples:
    """Warm up, then time ``completion``/``acompletion`` and the bare handler, alternated."""
    per_batch = max(1, cfg.calls // cfg.batches)
    floor_batch = per_batch * cfg.floor_factor
    sync_calls = {
        "sync_call": (lambda: llmctl.completion(model=MODEL, messages=MESSAGES), per_batch),
        "sync_floor": (lambda: handler.completion(model=MODEL, messages=MESSAGES), floor_batch),
    }
    async_calls = {
        "async_call": (lambda: llmctl.acompletion(model=MODEL, messages=MESSAGES), per_batch),
        "async_floor": (lambda: handler.acompletion(model=MODEL, messages=MESSAGES), floor_batch),
    }
    for call, _size in sync_calls.values():
        time_sync_calls(call, cfg.warmup_calls, 1)
    _settle()
    samples = alternate_sync(sync_calls, cfg.batches)

    async def run_async() -> None:
        _check("acompletion", await llmctl.acompletion(model=MODEL, messages=MESSAGES))
        for call, _size in async_calls.values():
            await time_async_calls(call, cfg.warmup_calls, 1)
        await _asettle()
        samples.update(await alternate_async(async_calls, cfg.batches))

    asyncio.run(run_async())
    return samples


def run_worker(cfg: PluginBenchConfig) -> dict[str, Any]:
    """Import llmctl, make the first call, time the calls; return the results."""
    start = time.perf_counter()
    import llmctl

    import_s = time.perf_counter() - start
    start = time.perf_counter()
    response = llmctl.completion(model=MODEL, messages=MESSAGES)
    first_call_s = time.perf_counter() - start
    _check("first completion", response)
    handler = importlib.import_module(module_name(0)).handler
    _check("handler.completion", handler.completion(model=MODEL, messages=MESSAGES))
    providers = sorted(ep.name for ep in entry_points(group=GROUP))
    return {
        "llmctl_version": llmctl.__version__,
        "llmctl_file": llmctl.__file__,
        "python": sys.version.split()[0],
        "entry_points": len(providers),
        "import_s": import_s,
        "first_call_s": first_call_s,
        "samples": measure(llmctl, handler, cfg),
    }


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; writes the JSON result to ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="PluginBenchConfig as JSON")
    parser.add_argument("--out", required=True, type=Path, help="where to write the result")
    args = parser.parse_args(argv)
    result = run_worker(PluginBenchConfig.from_json(args.config))
    args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
