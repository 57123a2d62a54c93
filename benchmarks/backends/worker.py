"""Times one client against the fake backend, inside its own process.

Run by :mod:`benchmarks.backends.run` as::

    python -m benchmarks.backends.worker --client llmctl --url http://127.0.0.1:PORT \
        --config '<json>' --out result.json [--profile DIR]

Clients (:mod:`benchmarks.backends.clients`): ``raw`` (one pooled ``httpx.AsyncClient``),
``llmctl`` (``acompletion`` through the ``openai_compatible`` plugin) and ``litellm``
(``acompletion`` with ``hosted_vllm/...``, run from LiteLLM's own venv). Each measurement runs
a bounded number of calls (or whole streams) on ``concurrency`` tasks that share the client,
and takes the wall time (``perf_counter``) and this process's CPU time (``process_time``) of
the batch. With ``--profile DIR`` it instead runs one batch of each measurement at the judged
concurrency under cProfile and writes ``DIR/<client>-<measurement>.prof``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from statistics import median
from typing import Any

from benchmarks.backends.clients import Client, make_client
from benchmarks.backends.config import (
    CHUNK_TEXT,
    JUDGED_CONCURRENCY,
    TEXT,
    BackendsBenchConfig,
    point_key,
)

#: One call of a measurement: a plain call (returns 1) or a whole stream (its chunk count).
Operation = Callable[[], Awaitable[int]]


async def run_batch(operation: Operation, total: int, concurrency: int) -> tuple[float, float]:
    """Run ``total`` operations on ``concurrency`` tasks; return (wall, CPU) seconds.

    :raises AssertionError: an operation returned nothing (a stream with no chunk).
    """
    remaining = total

    async def task() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            if not await operation():
                raise AssertionError("an operation returned no chunk")

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(task() for _ in range(concurrency)))
    return time.perf_counter() - wall, time.process_time() - cpu


def _operation(client: Client, chunks: int | None) -> Operation:
    if chunks is None:
        return client.call
    return lambda: client.stream(chunks)


async def verify(client: Client, cfg: BackendsBenchConfig) -> dict[str, int]:
    """Check the client's answers hold the fake server's text; return chunks seen per stream.

    :raises AssertionError: an answer differs from what the fake server sent.
    """
    content = await client.call_text()
    if content != TEXT:
        raise AssertionError(f"{client.name}: the completion says {content!r}, not {TEXT!r}")
    seen = {}
    for chunks in cfg.stream_chunks:
        texts: list[str] = []
        seen[f"stream{chunks}"] = await client.stream(chunks, texts)
        if "".join(texts) != CHUNK_TEXT * chunks:
            raise AssertionError(f"{client.name}: a {chunks}-chunk stream said {''.join(texts)!r}")
    return seen


async def measure(client: Client, cfg: BackendsBenchConfig) -> dict[str, Any]:
    """Time every measurement; batches of all measurements interleave to spread noise."""
    kinds: list[int | None] = [None, *cfg.stream_chunks]
    top = max(cfg.concurrency)
    for chunks in kinds:  # untimed: connections opened, lazy imports and caches warm
        await run_batch(
            _operation(client, chunks), max(cfg.warmup_calls // (chunks or 1), top), top
        )
    samples: dict[str, dict[str, Any]] = {}
    for _ in range(cfg.batches):
        for concurrency in cfg.concurrency:
            for chunks in kinds:
                total = cfg.operations(chunks, concurrency, client.name)
                gc.collect()
                wall, cpu = await run_batch(_operation(client, chunks), total, concurrency)
                per = total * (chunks or 1)  # per call, or per chunk of a stream
                point = samples.setdefault(
                    point_key(chunks, concurrency),
                    {"operations": total, "per": per, "wall_us": [], "cpu_us": []},
                )
                point["wall_us"].append(wall / per * 1e6)
                point["cpu_us"].append(cpu / per * 1e6)
    for point in samples.values():
        point["wall_us_median"] = median(point["wall_us"])
        point["cpu_us_median"] = median(point["cpu_us"])
    return samples


async def profile(client: Client, cfg: BackendsBenchConfig, out_dir: Path) -> dict[str, Any]:
    """Run one batch of each measurement at the judged concurrency under cProfile."""
    kinds: list[int | None] = [None, *cfg.stream_chunks]
    profiled = {}
    for chunks in kinds:
        operation = _operation(client, chunks)
        warmup = max(cfg.warmup_calls // (chunks or 1), JUDGED_CONCURRENCY)
        await run_batch(operation, warmup, JUDGED_CONCURRENCY)
        total = cfg.operations(chunks, JUDGED_CONCURRENCY, client.name)
        key = point_key(chunks, JUDGED_CONCURRENCY)
        profiler = cProfile.Profile()
        profiler.enable()
        wall, cpu = await run_batch(operation, total, JUDGED_CONCURRENCY)
        profiler.disable()
        path = out_dir / f"{client.name}-{key}.prof"
        profiler.dump_stats(path)
        profiled[key] = {"operations": total, "per": total * (chunks or 1), "path": str(path)}
        profiled[key].update(wall_s=wall, cpu_s=cpu)
    return profiled


async def run(args: argparse.Namespace, cfg: BackendsBenchConfig) -> dict[str, Any]:
    """Build the client, check it, then time (or profile) it; close it at the end."""
    client = make_client(args.client, args.url)
    try:
        result: dict[str, Any] = {"client": args.client, **client.describe()}
        result["observed_chunks"] = await verify(client, cfg)
        if args.profile is not None:
            result["profiles"] = await profile(client, cfg, args.profile)
        else:
            result["samples"] = await measure(client, cfg)
        result["requests"] = client.requests
        return result
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    """Time one client; write its figures as JSON to ``--out``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.backends.worker")
    parser.add_argument("--client", required=True)
    parser.add_argument("--url", required=True, help="the fake server, http://127.0.0.1:PORT")
    parser.add_argument("--config", required=True, help="BackendsBenchConfig as JSON")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--profile", type=Path, default=None, help="profile into this directory")
    args = parser.parse_args(argv)
    cfg = BackendsBenchConfig.from_json(args.config)
    result = asyncio.run(run(args, cfg))
    args.out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
