"""Times one library (or the bare handler) inside its own process.

Run by :mod:`benchmarks.core.run` as::

    python -m benchmarks.core.worker --lib litellm --config '<json>' --out result.json

For a library it times the public calls (``completion``, ``acompletion``, streaming), each
through the prebuilt-response handler, and, as a cross-check, the same handler called directly
in the same process. For ``--lib floor`` it times only the direct calls, with no library
imported. Every timed quantity is a list of per-batch figures in microseconds per operation
(per call, or per chunk for the streams).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import sys
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.core.config import FLOOR, BenchConfig
from benchmarks.core.handlers import (
    MESSAGES,
    MODEL,
    RESPONSE_TEXT,
    LibraryAPI,
    expected_stream_text,
    load_library,
    make_handler,
    register,
)

Samples = dict[str, list[float]]


@dataclass(frozen=True)
class Calls:
    """The four operations being timed, as zero-argument callables."""

    sync_call: Callable[[], object]
    sync_stream: Callable[[], Iterable[object]]
    async_call: Callable[[], Awaitable[object]]
    async_stream: Callable[[], Awaitable[AsyncIterable[object]]]


def library_calls(api: LibraryAPI) -> Calls:
    """Wrap the library's public entry points, with the benchmark model and messages."""
    completion, acompletion = api.completion, api.acompletion
    if completion is None or acompletion is None:
        raise ValueError(f"{api.name} has no completion entry points")

    async def open_async_stream() -> AsyncIterable[object]:
        stream: AsyncIterable[object] = await acompletion(
            model=MODEL, messages=MESSAGES, stream=True
        )
        return stream

    return Calls(
        sync_call=lambda: completion(model=MODEL, messages=MESSAGES),
        sync_stream=lambda: completion(model=MODEL, messages=MESSAGES, stream=True),
        async_call=lambda: acompletion(model=MODEL, messages=MESSAGES),
        async_stream=open_async_stream,
    )


def direct_calls(handler: Any) -> Calls:
    """Wrap the handler's own methods, called with no library in between (the floor)."""

    async def open_async_stream() -> AsyncIterable[object]:
        stream: AsyncIterable[object] = handler.astreaming(model=MODEL, messages=MESSAGES)
        return stream

    return Calls(
        sync_call=lambda: handler.completion(model=MODEL, messages=MESSAGES),
        sync_stream=lambda: handler.streaming(model=MODEL, messages=MESSAGES),
        async_call=lambda: handler.acompletion(model=MODEL, messages=MESSAGES),
        async_stream=open_async_stream,
    )


def _batch_sizes(total: int, batches: int) -> list[int]:
    """Split ``total`` operations into ``batches`` near-equal, non-empty batches."""
    batches = max(1, min(batches, total))
    base, extra = divmod(max(total, 1), batches)
    return [base + (1 if i < extra else 0) for i in range(batches)]


def _settle() -> None:
    """Let background work from the previous phase (logging threads, tasks) drain."""
    gc.collect()
    time.sleep(0.05)


async def _asettle() -> None:
    """Async :func:`_settle`: also lets pending tasks on the running loop finish."""
    gc.collect()
    await asyncio.sleep(0.05)


def time_sync_calls(call: Callable[[], object], total: int, batches: int) -> list[float]:
    """Microseconds per call of ``call()``, one figure per batch."""
    out = []
    perf = time.perf_counter_ns
    for size in _batch_sizes(total, batches):
        start = perf()
        for _ in range(size):
            call()
        out.append((perf() - start) / size / 1000)
    return out


def time_sync_streams(
    open_stream: Callable[[], Iterable[object]], streams: int, chunks: int, batches: int
) -> list[float]:
    """Microseconds per chunk of opening and fully consuming ``open_stream()``."""
    out = []
    perf = time.perf_counter_ns
    for size in _batch_sizes(streams, batches):
        start = perf()
        for _ in range(size):
            for _chunk in open_stream():
                pass
        out.append((perf() - start) / (size * chunks) / 1000)
    return out


async def time_async_calls(
    call: Callable[[], Awaitable[object]], total: int, batches: int
) -> list[float]:
    """Microseconds per sequential ``await call()``."""
    out = []
    perf = time.perf_counter_ns
    for size in _batch_sizes(total, batches):
        start = perf()
        for _ in range(size):
            await call()
        out.append((perf() - start) / size / 1000)
    return out


async def time_gathered_calls(
    call: Callable[[], Awaitable[object]], total: int, batch: int, batches: int
) -> list[float]:
    """Microseconds per call when ``batch`` calls at a time run under ``asyncio.gather``."""
    out = []
    perf = time.perf_counter_ns
    for size in _batch_sizes(max(1, total // batch), batches):
        start = perf()
        for _ in range(size):
            await asyncio.gather(*[call() for _ in range(batch)])
        out.append((perf() - start) / (size * batch) / 1000)
    return out


async def time_async_streams(
    open_stream: Callable[[], Awaitable[AsyncIterable[object]]],
    streams: int,
    chunks: int,
    batches: int,
) -> list[float]:
    """Microseconds per chunk of awaiting ``open_stream()`` and fully consuming it."""
    out = []
    perf = time.perf_counter_ns
    for size in _batch_sizes(streams, batches):
        start = perf()
        for _ in range(size):
            async for _chunk in await open_stream():
                pass
        out.append((perf() - start) / (size * chunks) / 1000)
    return out


def _chunk_content(chunk: Any) -> str:
    """Delta text of a library stream chunk (``ModelResponseStream``)."""
    choices = getattr(chunk, "choices", None)
    if not choices:
        return ""
    return getattr(choices[0].delta, "content", None) or ""


def _check_response(lib: str, response: Any) -> None:
    content = response.choices[0].message.content
    if content != RESPONSE_TEXT:
        raise AssertionError(f"{lib}: unexpected completion content {content!r}")


def _check_stream(lib: str, kind: str, chunks: list[Any], cfg: BenchConfig) -> int:
    text = "".join(_chunk_content(c) for c in chunks)
    if text != expected_stream_text(cfg.chunks):
        raise AssertionError(f"{lib}: {kind} stream text differs from the handler's chunks")
    return len(chunks)


def verify_library(lib: str, calls: Calls, cfg: BenchConfig) -> dict[str, int]:
    """Check the library routes to the handler and streams every chunk; return chunk counts."""
    _check_response(lib, calls.sync_call())
    sync_count = _check_stream(lib, "sync", list(calls.sync_stream()), cfg)

    async def check_async() -> int:
        _check_response(lib, await calls.async_call())
        chunks = [c async for c in await calls.async_stream()]
        return _check_stream(lib, "async", chunks, cfg)

    async_count = asyncio.run(check_async())
    return {"sync": sync_count, "async": async_count}


def measure(calls: Calls, cfg: BenchConfig, warmup: BenchConfig) -> Samples:
    """Time all operations with the counts in ``cfg``, after an untimed run of each.

    The untimed runs (``warmup.warmup_calls`` calls and a few streams) keep first-call costs
    such as lazy imports out of the figures; the async ones run on the same event loop as the
    timed ones, so per-loop setup is paid before timing too.
    """
    samples: Samples = {}
    warm_streams = max(2, warmup.warmup_calls // 10)
    time_sync_calls(calls.sync_call, warmup.warmup_calls, 1)
    _settle()
    samples["sync_call"] = time_sync_calls(calls.sync_call, cfg.sync_calls, cfg.batches)
    time_sync_streams(calls.sync_stream, warm_streams, cfg.chunks, 1)
    _settle()
    samples["sync_chunk"] = time_sync_streams(
        calls.sync_stream, cfg.sync_streams, cfg.chunks, cfg.batches
    )

    async def measure_async() -> None:
        await time_async_calls(calls.async_call, warmup.warmup_calls, 1)
        await _asettle()
        samples["async_call"] = await time_async_calls(
            calls.async_call, cfg.async_calls, cfg.batches
        )
        await time_gathered_calls(calls.async_call, cfg.gather_batch, cfg.gather_batch, 1)
        await _asettle()
        samples["async_gather"] = await time_gathered_calls(
            calls.async_call, cfg.gather_calls, cfg.gather_batch, cfg.batches
        )
        await time_async_streams(calls.async_stream, warm_streams, cfg.chunks, 1)
        await _asettle()
        samples["async_chunk"] = await time_async_streams(
            calls.async_stream, cfg.async_streams, cfg.chunks, cfg.batches
        )

    asyncio.run(measure_async())
    return samples


def run_worker(lib: str, cfg: BenchConfig) -> dict[str, Any]:
    """Import ``lib``, time it (or the bare handler for the floor) and return the results."""
    start = time.perf_counter()
    api = load_library(lib)
    import_s = time.perf_counter() - start
    handler = make_handler(api, cfg.chunks)
    floor_cfg = cfg.scaled(cfg.floor_factor)
    result: dict[str, Any] = {
        "lib": lib,
        "version": api.version,
        "python": platform.python_version(),
        "in_process_import_s": import_s,
        "chunks_per_stream": cfg.chunks,
    }
    direct = direct_calls(handler)
    if lib == FLOOR:
        result["samples"] = measure(direct, floor_cfg, cfg)
        return result
    register(api, handler)
    calls = library_calls(api)
    result["observed_chunks"] = verify_library(lib, calls, cfg)
    result["samples"] = measure(calls, cfg, cfg)
    result["direct_samples"] = measure(direct, floor_cfg, cfg)
    return result


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; writes the JSON result to ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lib", required=True, help="llmctl, litellm or floor")
    parser.add_argument("--config", required=True, help="BenchConfig as JSON")
    parser.add_argument("--out", required=True, type=Path, help="where to write the result")
    args = parser.parse_args(argv)
    result = run_worker(args.lib, BenchConfig.from_json(args.config))
    args.out.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
