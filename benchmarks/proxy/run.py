"""Proxy benchmark: ``llmctl serve`` vs LiteLLM's proxy vs a bare Starlette ceiling, over HTTP.

Each server runs one worker on 127.0.0.1; wrk loads ``POST /v1/chat/completions`` with JSON
and streaming requests at 8, 32 and 64 connections. llmctl and LiteLLM serve the same
``CustomLLM`` handler; the ceiling sends llmctl's reply as prebuilt bytes. Each round starts
every server afresh (timing its start-up), measures every load point with the servers' order
rotating, then reads each server's memory. Results: a table on stdout, ``results/proxy.json``
and the markdown fragment ``results/proxy.md``. The exit status is 0 whatever the figures; it
is 1 when a measurement crashed or a server answered with errors.

Usage::

    python -m benchmarks.proxy.run            # full run (about 12 minutes)
    python -m benchmarks.proxy.run --quick    # smoke run (about 2 minutes)

Environment (used when the matching flag is absent): ``BENCH_QUICK=1``, ``BENCH_ROUNDS``,
``BENCH_SCALE``, ``BENCH_OUT_DIR``, ``BENCH_SERVERS`` (comma-separated). ``--libs`` is accepted
and ignored, so that one ``nox -s bench -- ...`` command line suits every benchmark.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.cli import chosen_config, machine, results_document, run_parser
from benchmarks.core.config import SUBPROCESS_ENV
from benchmarks.core.report import render_text
from benchmarks.core.run import MeasurementError
from benchmarks.proxy import report
from benchmarks.proxy.config import (
    CEILING,
    FULL,
    HERE,
    KINDS,
    LITELLM,
    LLMCTL,
    LLMCTL_ACCESS_LOG,
    QUICK,
    SERVERS,
    STREAM_CHUNKS,
    ProxyBenchConfig,
)
from benchmarks.proxy.load import ensure_wrk, run_wrk, wrk_version
from benchmarks.proxy.servers import HOST, Server, ServerSpec, describe
from benchmarks.proxy.venv import check_server_stack, clean_env, litellm_venv, module_version

#: Runs of one server at one load point, by server, then by point key.
Samples = dict[str, dict[str, list[dict[str, Any]]]]
#: Distributions whose versions the results record, per interpreter.
RECORDED = ("uvicorn", "starlette", "uvloop", "httptools")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def check_handlers() -> None:
    """Check that the two handler files differ only in the package they import.

    :raises MeasurementError: they differ elsewhere.
    """
    llmctl, litellm = ((HERE / f"handler_{n}.py").read_text() for n in (LLMCTL, LITELLM))
    if llmctl.replace(LLMCTL, LITELLM) != litellm.replace(LLMCTL, LITELLM):
        raise MeasurementError(
            "benchmarks/proxy/handler_litellm.py must be handler_llmctl.py with `llmctl` "
            "replaced by `litellm`; regenerate it: "
            "sed 's/llmctl/litellm/g' handler_llmctl.py > handler_litellm.py"
        )


def server_specs(
    names: Sequence[str], litellm: Path | None, key: str, cwd: Path
) -> dict[str, ServerSpec]:
    """How to run each server named; ``litellm`` is LiteLLM's ``litellm`` script."""
    base = {
        k: v for k, v in clean_env().items() if not k.startswith(("LLMCTL_", "LITELLM_", "BENCH_"))
    }
    env = {**base, **SUBPROCESS_ENV}
    port = ["--host", HOST, "--port", "{port}"]
    llmctl = [sys.executable, "-m", "llmctl", "serve", "--config", str(HERE / "llmctl_config.yaml")]
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    ceiling_env = {**env}
    if LLMCTL in names:  # the ceiling replays llmctl's replies, captured by prepare()
        ceiling_env["BENCH_CEILING_JSON"] = str(cwd / "llmctl-json.body")
        ceiling_env["BENCH_CEILING_STREAM"] = str(cwd / "llmctl-stream.body")
    specs = {
        LLMCTL: ServerSpec(LLMCTL, (*llmctl, *port, "--no-access-log"), env, cwd),
        LLMCTL_ACCESS_LOG: ServerSpec(LLMCTL_ACCESS_LOG, (*llmctl, *port), env, cwd),
        CEILING: ServerSpec(
            CEILING,
            (
                *(sys.executable, "-m", "uvicorn", "--app-dir", str(HERE), "ceiling:app"),
                *("--http", "httptools", "--loop", loop, "--no-access-log", "--workers", "1"),
                *port,
            ),
            ceiling_env,
            cwd,
        ),
    }
    if litellm is not None:
        argv = (str(litellm), "--config", str(HERE / "litellm_config.yaml"), *port)
        specs[LITELLM] = ServerSpec(
            LITELLM, (*argv, "--num_workers", "1"), {**env, "LITELLM_MASTER_KEY": key}, cwd
        )
    return {name: specs[name] for name in SERVERS if name in names}


def prepare(specs: dict[str, ServerSpec], headers: dict[str, str], logs: Path) -> dict[str, Any]:
    """Start each server once, untimed: fill the file caches and check its replies.

    llmctl's replies are saved for the ceiling to send (before the ceiling starts).
    """
    sizes: dict[str, Any] = {}
    for name, spec in specs.items():
        server = Server(spec, logs / f"{name}.log", headers)
        try:
            server.start()
            bodies = server.check_replies()
        finally:
            server.stop()
        sizes[name] = {kind: len(body) for kind, body in bodies.items()}
        if name == LLMCTL:
            for kind, body in bodies.items():
                (spec.cwd / f"llmctl-{kind}.body").write_bytes(body)
        if name == CEILING and LLMCTL in specs:
            llmctl_bodies = {k: (spec.cwd / f"llmctl-{k}.body").read_bytes() for k in KINDS}
            if bodies != llmctl_bodies:
                raise MeasurementError("the ceiling's replies differ from llmctl's captured ones")
        _log(f"{name}: replies checked ({sizes[name]['json']} and {sizes[name]['stream']} bytes)")
    return sizes


def load_points(names: Sequence[str], cfg: ProxyBenchConfig) -> list[tuple[str, str, int]]:
    """Every (server, kind, connections) a round measures, in a first order."""
    points = []
    for kind in KINDS:
        for connections in cfg.connections:
            for name in names:
                if name == LLMCTL_ACCESS_LOG and connections != cfg.access_log_connections:
                    continue
                points.append((name, kind, connections))
    return points


def _rotated(items: Sequence[str], n: int) -> list[str]:
    n %= max(1, len(items))
    return [*items[n:], *items[:n]]


@dataclasses.dataclass
class Collected:
    """Everything the rounds measured."""

    samples: Samples
    startup_s: dict[str, list[float]]
    rss_idle: dict[str, list[int]]
    rss_load: dict[str, list[int]]
    warmup_errors: dict[str, int]

    def errors(self) -> dict[str, int]:
        """Errors per server, every measurement and warm-up of every round."""
        return {
            name: self.warmup_errors[name]
            + sum(run["errors"] for runs in points.values() for run in runs)
            for name, points in self.samples.items()
        }


def run_round(
    r: int,
    specs: dict[str, ServerSpec],
    cfg: ProxyBenchConfig,
    wrk: str,
    key: str,
    logs: Path,
    out: Collected,
) -> None:
    """Start every server, measure every load point, read memory, stop them all."""
    headers = {"Authorization": f"Bearer {key}"}
    order = _rotated(list(specs), r)
    for _ in range(cfg.start_repeats):  # start-up timings alone, nothing else running
        for name in order:
            server = Server(specs[name], logs / f"{name}.log", headers)
            try:
                out.startup_s[name].append(server.start())
            finally:
                server.stop()
    running: dict[str, Server] = {}
    try:
        for name in order:
            server = Server(specs[name], logs / f"{name}.log", headers)
            running[name] = server
            out.startup_s[name].append(server.start())
            server.check_replies()
            out.rss_idle[name].append(server.rss_bytes())
        by_load: dict[tuple[str, int], list[str]] = {}
        for name, kind, connections in load_points(order, cfg):
            by_load.setdefault((kind, connections), []).append(name)
        for i, ((kind, connections), names) in enumerate(by_load.items()):
            for name in _rotated(names, i + r):
                server = running[name]
                common: dict[str, Any] = {"kind": kind, "connections": connections, "cfg": cfg}
                warm = run_wrk(wrk, server.url, seconds=cfg.warmup_s, key=key, **common)
                out.warmup_errors[name] += warm["errors"]
                result = run_wrk(wrk, server.url, seconds=cfg.duration_s, key=key, **common)
                server.check_alive()
                out.samples[name].setdefault(report.point_key(kind, connections), []).append(
                    {"round": r, **result}
                )
        for name, server in running.items():
            out.rss_load[name].append(server.rss_bytes())
            server.check_replies()
    finally:
        for server in running.values():
            server.stop()


def collect(
    specs: dict[str, ServerSpec], cfg: ProxyBenchConfig, wrk: str, key: str, logs: Path
) -> Collected:
    """Run every round."""
    out = Collected(
        samples={name: {} for name in specs},
        startup_s={name: [] for name in specs},
        rss_idle={name: [] for name in specs},
        rss_load={name: [] for name in specs},
        warmup_errors=dict.fromkeys(specs, 0),
    )
    for r in range(cfg.rounds):
        started = time.perf_counter()
        run_round(r, specs, cfg, wrk, key, logs, out)
        took = time.perf_counter() - started
        errors = sum(out.errors().values())
        _log(f"round {r + 1}/{cfg.rounds} done in {took:.0f} s ({errors} errors so far)")
    return out


def versions(litellm_python: Path | None) -> dict[str, Any]:
    """Return the versions of llmctl, LiteLLM and the server stack each runs on."""
    found: dict[str, Any] = {
        "llmctl": module_version(sys.executable, "llmctl"),
        "stack": {dist: module_version(sys.executable, dist) for dist in RECORDED},
    }
    if litellm_python is not None:
        found["litellm"] = module_version(litellm_python, "litellm")
        found["litellm_stack"] = {dist: module_version(litellm_python, dist) for dist in RECORDED}
    return found


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line flags, defaulting to the ``BENCH_*`` environment variables."""
    parser = run_parser(
        "benchmarks.proxy.run",
        "llmctl serve vs LiteLLM's proxy vs a bare Starlette ceiling, over HTTP with wrk.",
        rounds_help="interleaved rounds (default 5, 3 with --quick)",
        scale_help="multiply each measurement's duration by this",
        results="proxy.json and proxy.md",
    )
    parser.add_argument(
        "--servers",
        default=os.environ.get("BENCH_SERVERS", ",".join(SERVERS)),
        help=f"comma-separated servers to run (default: {','.join(SERVERS)})",
    )
    parser.add_argument(
        "--libs",
        default=None,
        help="ignored: accepted so that `nox -s bench -- --libs ...` reaches every benchmark",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the cached LiteLLM proxy venv first"
    )
    args = parser.parse_args(argv)
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = sorted(set(args.servers) - set(SERVERS))
    if unknown or not args.servers:
        parser.error(f"unknown servers {unknown}; choose from {', '.join(SERVERS)}")
    return args


def write_results(
    args: argparse.Namespace, cfg: ProxyBenchConfig, got: Collected, meta: dict[str, Any]
) -> None:
    """Print the tables; write ``proxy.json`` and ``proxy.md``."""
    kinds, connections = list(KINDS), list(cfg.connections)
    rows = report.point_rows(got.samples, kinds, connections)
    rows += report.process_rows(got.startup_s, got.rss_load, got.errors())
    for kind in kinds:
        row = report.access_log_row(got.samples, kind, cfg.access_log_connections)
        if row is not None:
            rows.append(row)
    figures = report.figure_cells(got.samples, [(k, c) for k in kinds for c in connections])
    print()
    print(render_text(report.table_cells(rows)))
    print()
    print(render_text(figures))
    print()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    json_path = args.out_dir / "proxy.json"
    md_path = args.out_dir / "proxy.md"
    raw = {
        "samples": got.samples,
        "startup_s": got.startup_s,
        "rss_idle_bytes": got.rss_idle,
        "rss_load_bytes": got.rss_load,
        "warmup_errors": got.warmup_errors,
    }
    json_path.write_text(json.dumps(results_document(rows, meta, raw), indent=2) + "\n")
    md_path.write_text(report.markdown_fragment(rows, figures, meta))
    print(f"wrote {json_path} and {md_path}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the tables and write the JSON and markdown results."""
    args = parse_args(argv)
    cfg = chosen_config(args, QUICK, FULL)
    names: list[str] = args.servers
    # The servers run in sessions of their own, so no signal to this process reaches them:
    # on SIGTERM, unwind through the `finally` blocks that stop them.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    key = "sk-" + secrets.token_urlsafe(32)  # LiteLLM refuses weak keys; all servers get it
    try:
        check_handlers()
        wrk = ensure_wrk()
        check_server_stack(sys.executable)
        venv = litellm_venv(rebuild=args.rebuild) if LITELLM in names else None
        with tempfile.TemporaryDirectory(prefix="llmctl-bench-proxy-") as tmp:
            cwd, logs = Path(tmp) / "cwd", Path(tmp) / "logs"
            cwd.mkdir()
            logs.mkdir()
            litellm = venv.script("litellm") if venv is not None else None
            specs = server_specs(names, litellm, key, cwd)
            _log(f"proxy benchmark: {', '.join(specs)}; {cfg.rounds} rounds")
            sizes = prepare(specs, {"Authorization": f"Bearer {key}"}, logs)
            got = collect(specs, cfg, wrk, key, logs)
    except (MeasurementError, subprocess.TimeoutExpired) as exc:
        _log(f"benchmark crashed: {exc}")
        return 1

    meta = {
        **machine("benchmarks.proxy.run"),
        "versions": versions(venv.python if venv is not None else None),
        "wrk": wrk_version(wrk).split(" [")[0],
        "servers": describe(list(specs.values())),
        "ceiling_bodies": "llmctl's replies, byte for byte" if LLMCTL in specs else "built-in",
        "reply_bytes": sizes,
        "stream_chunks": STREAM_CHUNKS,
        "config": dataclasses.asdict(cfg),
        "env": SUBPROCESS_ENV,
    }
    write_results(args, cfg, got, meta)
    errors = got.errors()
    if any(errors.values()):
        _log(f"servers answered with errors: {errors}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
