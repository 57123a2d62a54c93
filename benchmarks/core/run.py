"""Side-by-side core benchmark: llmctl vs LiteLLM vs the bare handler (``nox -s bench``).

Each round times, in this order, a whole ``python -c "import X"`` process per library and
``python -c pass``, then one fresh worker process per library and one for the floor (the
handler called directly, no library). Results: a table on stdout, ``results/core.json`` and the
markdown fragment ``results/core.md`` for docs/performance.md. The exit status is 0 whatever
the figures; it is non-zero only when a measurement crashed.

Usage::

    python -m benchmarks.core.run            # full run (a few minutes)
    python -m benchmarks.core.run --quick    # smoke run

Environment (used when the matching flag is absent): ``BENCH_QUICK=1``, ``BENCH_ROUNDS``,
``BENCH_SCALE``, ``BENCH_LIBS`` (comma-separated), ``BENCH_OUT_DIR``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.cli import chosen_config, machine, run_parser
from benchmarks.core import report
from benchmarks.core.config import DEFAULT_LIBS, FLOOR, FULL, QUICK, SUBPROCESS_ENV, BenchConfig

#: Directory holding the ``benchmarks`` package; workers run with it as working directory.
REPO_ROOT = Path(__file__).resolve().parents[2]
IMPORT_FLOOR = "pass"
WORKER_TIMEOUT_S = 900


class MeasurementError(RuntimeError):
    """A subprocess failed; the benchmark cannot report."""


def _env() -> dict[str, str]:
    return {**os.environ, **SUBPROCESS_ENV}


def time_import(name: str, cwd: str) -> float:
    """Wall-clock seconds of a whole ``python -c "import <name>"`` process (or ``pass``)."""
    # What a user's script imports; `import llmctl` alone is lazy and would flatter llmctl.
    code = "pass" if name == IMPORT_FLOOR else f"from {name} import CustomLLM, completion"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise MeasurementError(f"python -c {code!r} failed:\n{proc.stderr}")
    return elapsed


def worker_result(
    cmd: Sequence[str], *, what: str, env: dict[str, str], timeout: float
) -> dict[str, Any]:
    """Run a benchmark worker, ``cmd`` plus ``--out FILE``; return the JSON it wrote there.

    Every benchmark's workers run this way, from the repository root.

    :param what: the worker, for the error (``worker for llmctl``).
    :raises MeasurementError: it failed or wrote nothing.
    """
    with tempfile.TemporaryDirectory(prefix="llmctl-bench-") as tmp:
        out = Path(tmp) / "result.json"
        proc = subprocess.run(
            [*cmd, "--out", str(out)],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0 or not out.exists():
            raise MeasurementError(
                f"{what} failed (exit {proc.returncode}):\n{proc.stderr}{proc.stdout}"
            )
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def run_worker(lib: str, cfg: BenchConfig) -> dict[str, Any]:
    """Run :mod:`benchmarks.core.worker` for ``lib`` in a fresh process; return its result."""
    cmd = [sys.executable, "-m", "benchmarks.core.worker", "--lib", lib]
    cmd += ["--config", cfg.to_json()]
    return worker_result(cmd, what=f"worker for {lib}", env=_env(), timeout=WORKER_TIMEOUT_S)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def collect(
    libs: Sequence[str], cfg: BenchConfig
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[float]]]:
    """Run all rounds; return worker results and import wall times, keyed by library."""
    import_names = [*libs, IMPORT_FLOOR]
    workers = [*libs, FLOOR]
    imports: dict[str, list[float]] = {name: [] for name in import_names}
    results: dict[str, list[dict[str, Any]]] = {lib: [] for lib in workers}
    with tempfile.TemporaryDirectory(prefix="llmctl-bench-cwd-") as cwd:
        for name in import_names:  # untimed: fills the OS file cache and writes .pyc files
            time_import(name, cwd)
        for n in range(1, cfg.rounds + 1):
            started = time.perf_counter()
            for _ in range(cfg.import_repeats):
                for name in import_names:
                    imports[name].append(time_import(name, cwd))
            for lib in workers:
                results[lib].append(run_worker(lib, cfg))
            took = time.perf_counter() - started
            _log(f"round {n}/{cfg.rounds} done in {took:.1f} s")
    return results, imports


def metadata(
    libs: Sequence[str], cfg: BenchConfig, results: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """Where, when and how the figures were taken."""
    return {
        **machine("benchmarks.core.run"),
        "versions": {lib: results[lib][0]["version"] for lib in libs},
        "observed_chunks": {lib: results[lib][0].get("observed_chunks") for lib in libs},
        "config": dataclasses.asdict(cfg),
        "env": SUBPROCESS_ENV,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line flags, defaulting to the ``BENCH_*`` environment variables."""
    parser = run_parser(
        "benchmarks.core.run",
        "llmctl vs LiteLLM core benchmark (import, per-call, streaming).",
        rounds_help="interleaved rounds (default 5, 2 with --quick)",
        scale_help="multiply every timed call and stream count by this",
        results="core.json and core.md",
    )
    parser.add_argument(
        "--libs",
        default=os.environ.get("BENCH_LIBS", ",".join(DEFAULT_LIBS)),
        help="comma-separated libraries to compare (default: llmctl,litellm)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the table and write the JSON and markdown results."""
    args = parse_args(argv)
    cfg = chosen_config(args, QUICK, FULL)
    libs = [lib.strip() for lib in args.libs.split(",") if lib.strip()]
    _log(f"core benchmark: {', '.join(libs)} and floor, {cfg.rounds} rounds")
    try:
        results, imports = collect(libs, cfg)
    except (MeasurementError, subprocess.TimeoutExpired) as exc:
        _log(f"benchmark crashed: {exc}")
        return 1

    meta = metadata(libs, cfg, results)
    rows = report.summarize(results, imports, IMPORT_FLOOR)
    litellm_version = str(meta["versions"].get(report.BASELINE, "-"))
    print()
    print(report.render_text(report.table_cells(rows, litellm_version)))
    print()
    print(report.render_text(report.throughput_cells(rows, cfg.gather_batch)))
    print()

    args.out_dir.mkdir(parents=True, exist_ok=True)
    json_path = args.out_dir / "core.json"
    md_path = args.out_dir / "core.md"
    json_path.write_text(json.dumps(report.to_json(rows, meta), indent=2) + "\n")
    md_path.write_text(report.markdown_fragment(rows, meta))
    print(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
