"""Plugin benchmark: dispatch with 1 vs 50 installed providers, and CLI wall time vs LiteLLM.

Builds (or reuses) two venvs with llmctl installed from this repository, one with 1 and one
with 50 generated provider plugins. Each round then times, as whole processes,
``llmctl providers list`` and ``llmctl --help`` (50 plugins), ``litellm --help`` and a few
floors, and runs one fresh worker per venv that times ``llmctl.completion(model="p0/m")``
against the plugin's handler called directly. Results: a table on stdout,
``results/plugins.json`` and ``results/plugins.md``. The exit status is 0 whatever the figures;
it is non-zero only when a measurement crashed.

Usage::

    python -m benchmarks.plugins.run            # full run (a few minutes)
    python -m benchmarks.plugins.run --quick    # smoke run

Environment (used when the matching flag is absent): ``BENCH_QUICK=1``, ``BENCH_ROUNDS``,
``BENCH_SCALE``, ``BENCH_OUT_DIR``. ``--libs`` is accepted and ignored, so that one
``nox -s bench -- ...`` command line suits this benchmark and the core one.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.cli import chosen_config, machine, results_document, run_parser
from benchmarks.core.config import LITELLM_VERSION, SUBPROCESS_ENV
from benchmarks.core.report import render_text
from benchmarks.core.run import MeasurementError, worker_result
from benchmarks.plugins import report
from benchmarks.plugins.config import FEW, FULL, GROUP, MANY, QUICK, PluginBenchConfig
from benchmarks.plugins.venvs import Venv, litellm_script, plugin_venvs
from benchmarks.plugins.wheels import provider_name

WORKER_TIMEOUT_S = 600
COMMAND_TIMEOUT_S = 120
#: Inherited variables that would change what the subprocesses import or load.
SCRUBBED_ENV = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "LLMCTL_LOAD_PLUGINS")


def _env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in SCRUBBED_ENV and not k.startswith(("LLMCTL_DISABLE_", "LLMCTL_PROVIDER_"))
    }
    return {**env, **SUBPROCESS_ENV}


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def commands(venvs: dict[int, Venv], litellm: Path) -> dict[str, list[str]]:
    """Return the whole-process commands timed each round, by report key."""
    many, few = venvs[MANY], venvs[FEW]
    read_eps = (
        "import click, pluggy, importlib_metadata; "
        f"importlib_metadata.entry_points(group={GROUP!r})"
    )
    return {
        "providers_list": [str(many.script("llmctl")), "providers", "list"],
        "llmctl_help": [str(many.script("llmctl")), "--help"],
        "providers_list_few": [str(few.script("llmctl")), "providers", "list"],
        "read_entry_points": [str(many.python), "-c", read_eps],
        "import_click": [str(many.python), "-c", "import click, importlib_metadata"],
        "python_pass": [str(many.python), "-c", "pass"],
        report.BASELINE: [str(litellm), "--help"],
    }


def run_command(argv: Sequence[str], cwd: str) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` to completion, output captured; raise if it fails."""
    proc = subprocess.run(
        argv, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S
    )
    if proc.returncode != 0:
        raise MeasurementError(
            f"{shlex.join(argv)} failed (exit {proc.returncode}):\n{proc.stderr}{proc.stdout}"
        )
    return proc


def time_command(argv: Sequence[str], cwd: str) -> float:
    """Wall-clock seconds of a whole ``argv`` process, output discarded."""
    start = time.perf_counter()
    proc = subprocess.run(
        argv,
        cwd=cwd,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise MeasurementError(
            f"{shlex.join(argv)} failed (exit {proc.returncode}):\n{proc.stderr}"
        )
    return elapsed


def verify(venvs: dict[int, Venv], litellm: Path, cwd: str) -> dict[str, Any]:
    """Check each venv lists exactly its plugins, unloaded, and that ``litellm --help`` works."""
    found: dict[str, Any] = {}
    for n, venv in venvs.items():
        proc = run_command([str(venv.script("llmctl")), "providers", "list", "--json"], cwd)
        rows = json.loads(proc.stdout)
        names = sorted(row["name"] for row in rows)
        expected = sorted(provider_name(i) for i in range(n))
        if names != expected:
            raise MeasurementError(f"providers-{n}: `llmctl providers list` shows {names}")
        if any(row["source"] != "entry_point" for row in rows):
            raise MeasurementError(f"providers-{n}: a row's source is not entry_point: {rows}")
        statuses = sorted({row["status"] for row in rows})
        if statuses != ["unloaded"]:
            _log(f"warning: providers-{n}: listing shows statuses {statuses}, not 'unloaded'")
        found[f"providers_{n}"] = {"listed": len(rows), "statuses": statuses}
    help_text = run_command([str(litellm), "--help"], cwd).stdout
    if "Usage:" not in help_text:
        raise MeasurementError(f"`litellm --help` printed no usage:\n{help_text[:500]}")
    return found


def run_worker(venv: Venv, cfg: PluginBenchConfig) -> dict[str, Any]:
    """Run :mod:`benchmarks.plugins.worker` with ``venv``'s interpreter; return its result."""
    cmd = [str(venv.python), "-m", "benchmarks.plugins.worker", "--config", cfg.to_json()]
    result = worker_result(
        cmd, what=f"worker in {venv.path.name}", env=_env(), timeout=WORKER_TIMEOUT_S
    )
    # The venv's own llmctl, installed from a wheel: never the repository's sources.
    if not Path(result["llmctl_file"]).is_relative_to(venv.path):
        raise MeasurementError(f"{venv.path.name} imported llmctl from {result['llmctl_file']}")
    return result


def collect(
    venvs: dict[int, Venv], cmds: dict[str, list[str]], cfg: PluginBenchConfig, cwd: str
) -> tuple[dict[int, list[dict[str, Any]]], dict[str, list[float]]]:
    """Run all rounds; return worker results by provider count, process times by key."""
    workers: dict[int, list[dict[str, Any]]] = {n: [] for n in venvs}
    times: dict[str, list[float]] = {key: [] for key in cmds}
    keys = list(cmds)
    for argv in cmds.values():  # untimed: fills the OS file cache
        time_command(argv, cwd)
    for r in range(cfg.rounds):
        started = time.perf_counter()
        order = keys[r % len(keys) :] + keys[: r % len(keys)]  # no command always goes first
        for _ in range(cfg.process_repeats):
            for key in order:
                times[key].append(time_command(cmds[key], cwd))
        for n in sorted(venvs, reverse=bool(r % 2)):  # 1 then 50, then 50 then 1, ...
            result = run_worker(venvs[n], cfg)
            if result["entry_points"] != n:
                raise MeasurementError(f"providers-{n} has {result['entry_points']} entry points")
            workers[n].append(result)
        _log(f"round {r + 1}/{cfg.rounds} done in {time.perf_counter() - started:.1f} s")
    return workers, times


def metadata(
    cfg: PluginBenchConfig,
    venvs: dict[int, Venv],
    litellm: Path,
    workers: dict[int, list[dict[str, Any]]],
    listed: dict[str, Any],
) -> dict[str, Any]:
    """Where, when and how the figures were taken."""
    return {
        **machine("benchmarks.plugins.run"),
        "python": workers[MANY][0]["python"],
        "versions": {"llmctl": workers[MANY][0]["llmctl_version"], "litellm": LITELLM_VERSION},
        "venvs": {f"providers_{n}": str(v.path) for n, v in venvs.items()},
        "litellm_script": str(litellm),
        "listed": listed,
        "config": dataclasses.asdict(cfg),
        "env": SUBPROCESS_ENV,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line flags, defaulting to the ``BENCH_*`` environment variables."""
    parser = run_parser(
        "benchmarks.plugins.run",
        "llmctl plugin benchmark (dispatch with 1 vs 50 providers, CLI wall time).",
        rounds_help="interleaved rounds (default 9, 3 with --quick)",
        scale_help="multiply the timed call count by this",
        results="plugins.json and plugins.md",
    )
    parser.add_argument(
        "--libs",
        default=None,
        help="ignored: accepted so that `nox -s bench -- --libs ...` reaches both benchmarks",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the cached plugin venvs first"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the table and write the JSON and markdown results."""
    args = parse_args(argv)
    cfg = chosen_config(args, QUICK, FULL)
    try:
        venvs = plugin_venvs((FEW, MANY), rebuild=args.rebuild)
        litellm = litellm_script()
        cmds = commands(venvs, litellm)
        _log(f"plugin benchmark: {FEW} vs {MANY} providers, {cfg.rounds} rounds")
        with tempfile.TemporaryDirectory(prefix="llmctl-bench-cwd-") as cwd:
            listed = verify(venvs, litellm, cwd)
            workers, times = collect(venvs, cmds, cfg, cwd)
    except (MeasurementError, subprocess.TimeoutExpired) as exc:
        _log(f"benchmark crashed: {exc}")
        return 1

    meta = metadata(cfg, venvs, litellm, workers, listed)
    rows = report.dispatch_rows(workers) + report.process_rows(times)
    print()
    print(render_text(report.table_cells(rows)))
    print()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    json_path = args.out_dir / "plugins.json"
    md_path = args.out_dir / "plugins.md"
    raw = {"workers": workers, "process_s": times, "commands": cmds}
    json_path.write_text(json.dumps(results_document(rows, meta, raw), indent=2) + "\n")
    md_path.write_text(report.markdown_fragment(rows, meta))
    print(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
