"""Backends benchmark: the ``openai_compatible`` plugin path vs a raw httpx call (issue 6).

A fake OpenAI-compatible server (:mod:`benchmarks.backends.fake_server`) runs in a process of
its own on 127.0.0.1. Each round runs one fresh worker per client (raw httpx, llmctl through
the plugin, LiteLLM), the order rotating; each times non-streaming calls and 20- and
100-chunk streams at 32 concurrent calls and one at a time, in wall time and client CPU time.
Results: tables on stdout, ``results/backends.json`` and the markdown fragment
``results/backends.md``. The exit status is 0 whatever the figures; it is 1 when a
measurement crashed.

Usage::

    python -m benchmarks.backends.run            # full run (about 4 minutes)
    python -m benchmarks.backends.run --quick    # smoke run (about a minute)
    python -m benchmarks.backends.run --profile  # and profile each client afterwards

Environment (used when the matching flag is absent): ``BENCH_QUICK=1``, ``BENCH_ROUNDS``,
``BENCH_SCALE``, ``BENCH_OUT_DIR``, ``BENCH_CLIENTS`` (comma-separated). ``--libs`` is accepted
and ignored, so that one ``nox -s bench -- ...`` command line suits every benchmark.
"""

from __future__ import annotations

import argparse
import dataclasses
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from benchmarks.backends import profiling, report
from benchmarks.backends.config import (
    CLIENTS,
    FULL,
    LITELLM,
    LLMCTL,
    PLUGIN_DIR,
    PROVIDER,
    QUICK,
    BackendsBenchConfig,
)
from benchmarks.cli import chosen_config, machine, results_document, run_parser
from benchmarks.core.config import SUBPROCESS_ENV
from benchmarks.core.report import render_text
from benchmarks.core.run import REPO_ROOT, MeasurementError, worker_result
from benchmarks.plugins.venvs import litellm_script
from benchmarks.proxy.servers import HOST, Server, ServerSpec
from benchmarks.proxy.venv import check_server_stack, clean_env

WORKER_TIMEOUT_S = 900
#: The fake server's command; ``{port}`` stands for its port.
SERVER_ARGV = (
    *(sys.executable, "-m", "uvicorn", "benchmarks.backends.fake_server:app"),
    *("--http", "httptools", "--loop", "uvloop", "--no-access-log", "--workers", "1"),
    # uvicorn closes a connection idle for 5 s; a client's pooled one can sit that long
    # between measurements, and reusing it as the server closes it fails the request.
    *("--timeout-keep-alive", "600"),
    *("--host", HOST, "--port", "{port}"),
)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _env() -> dict[str, str]:
    base = {k: v for k, v in clean_env().items() if not k.startswith(("LLMCTL_", "LITELLM_"))}
    return {**base, **SUBPROCESS_ENV}


def check_plugin() -> list[dict[str, str]]:
    """Return the distributions providing ``openai_compatible`` to this interpreter.

    :raises MeasurementError: none does.
    """
    found = entry_points(group="litellm.providers", name=PROVIDER)
    if not found:
        raise MeasurementError(
            f"no provider {PROVIDER!r} is installed for {sys.executable}; install the plugin "
            f"and rerun: pip install -e {PLUGIN_DIR.relative_to(REPO_ROOT)}"
        )
    return [{"value": ep.value, "distribution": ep.dist.name if ep.dist else "?"} for ep in found]


def interpreters(clients: Sequence[str], *, rebuild: bool) -> dict[str, str]:
    """Return the interpreter each client's worker runs in: LiteLLM's is its own venv's."""
    found = {client: sys.executable for client in clients}
    if LITELLM in clients:
        found[LITELLM] = str(litellm_script(rebuild=rebuild).parent / "python")
    return found


def server_stats(port: int) -> dict[str, int]:
    """Return the requests the fake server answered so far, by kind."""
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    try:
        conn.request("GET", "/stats")
        stats: dict[str, int] = json.loads(conn.getresponse().read())
        return stats
    finally:
        conn.close()


def run_worker(
    client: str,
    python: str,
    server: Server,
    cfg: BackendsBenchConfig,
    profile_dir: Path | None = None,
) -> dict[str, Any]:
    """Run :mod:`benchmarks.backends.worker` for ``client`` in a fresh process.

    :raises MeasurementError: it failed, or the server did not answer exactly its requests.
    """
    before = server_stats(server.port)
    cmd = [python, "-m", "benchmarks.backends.worker", "--client", client]
    cmd += ["--url", f"http://{HOST}:{server.port}", "--config", cfg.to_json()]
    if profile_dir is not None:
        cmd += ["--profile", str(profile_dir)]
    result = worker_result(cmd, what=f"worker for {client}", env=_env(), timeout=WORKER_TIMEOUT_S)
    server.check_alive()
    after = server_stats(server.port)
    answered = {kind: after[kind] - before[kind] for kind in after}
    if answered != result["requests"]:
        raise MeasurementError(
            f"{client} sent {result['requests']} requests but the fake server answered "
            f"{answered}: a retry, or a request that went elsewhere"
        )
    return result


def _rotated(items: Sequence[str], n: int) -> list[str]:
    n %= max(1, len(items))
    return [*items[n:], *items[:n]]


def collect(
    clients: Sequence[str], pythons: dict[str, str], server: Server, cfg: BackendsBenchConfig
) -> dict[str, list[dict[str, Any]]]:
    """Run every round: a fresh worker per client, the order rotating."""
    results: dict[str, list[dict[str, Any]]] = {client: [] for client in clients}
    for r in range(cfg.rounds):
        started = time.perf_counter()
        for client in _rotated(clients, r):
            results[client].append(run_worker(client, pythons[client], server, cfg))
        _log(f"round {r + 1}/{cfg.rounds} done in {time.perf_counter() - started:.0f} s")
    return results


def profile_clients(
    clients: Sequence[str],
    pythons: dict[str, str],
    server: Server,
    cfg: BackendsBenchConfig,
    out_dir: Path,
) -> dict[str, dict[str, Any]]:
    """Profile one worker per client; return :func:`profiling.summarize` of their runs."""
    with tempfile.TemporaryDirectory(prefix="llmctl-bench-profile-") as tmp:
        profiles = {}
        for client in clients:
            _log(f"profiling {client}")
            result = run_worker(client, pythons[client], server, cfg, profile_dir=Path(tmp))
            profiles[client] = result["profiles"]
        summary = profiling.summarize(profiles)
    path = out_dir / "backends-profile.md"
    path.write_text(profiling.markdown(summary, clients))
    _log(f"wrote {path}")
    return summary


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line flags, defaulting to the ``BENCH_*`` environment variables."""
    parser = run_parser(
        "benchmarks.backends.run",
        "The openai_compatible plugin path vs raw httpx (and LiteLLM) against a fake server.",
        rounds_help="interleaved rounds (default 5, 2 with --quick)",
        scale_help="multiply every timed call and stream count by this",
        results="backends.json and backends.md",
    )
    parser.add_argument(
        "--clients",
        default=os.environ.get("BENCH_CLIENTS", ",".join(CLIENTS)),
        help=f"comma-separated clients to run (default: {','.join(CLIENTS)})",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after the rounds, profile each client and write backends-profile.md",
    )
    parser.add_argument(
        "--libs",
        default=None,
        help="ignored: accepted so that `nox -s bench -- --libs ...` reaches every benchmark",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the cached LiteLLM venv, if one is used"
    )
    args = parser.parse_args(argv)
    args.clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    unknown = sorted(set(args.clients) - set(CLIENTS))
    if unknown or not args.clients:
        parser.error(f"unknown clients {unknown}; choose from {', '.join(CLIENTS)}")
    return args


def write_results(
    args: argparse.Namespace,
    cfg: BackendsBenchConfig,
    results: dict[str, list[dict[str, Any]]],
    meta: dict[str, Any],
) -> list[report.Row]:
    """Print the tables; write ``backends.json`` and ``backends.md``."""
    rows = report.summarize(results, cfg.stream_chunks, cfg.concurrency)
    print()
    for figure, _ in report.FIGURES:
        print(render_text(report.table_cells(rows, figure)))
        print()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    json_path = args.out_dir / "backends.json"
    md_path = args.out_dir / "backends.md"
    raw = {"workers": results}
    json_path.write_text(json.dumps(results_document(rows, meta, raw), indent=2) + "\n")
    md_path.write_text(report.markdown_fragment(rows, meta))
    print(f"wrote {json_path} and {md_path}")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the tables and write the JSON and markdown results."""
    args = parse_args(argv)
    cfg = chosen_config(args, QUICK, FULL)
    clients: list[str] = args.clients
    # The server runs in a session of its own, so no signal to this process reaches it:
    # on SIGTERM, unwind through the `finally` block that stops it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        plugin = check_plugin()
        check_server_stack(sys.executable)
        pythons = interpreters(clients, rebuild=args.rebuild)
        with tempfile.TemporaryDirectory(prefix="llmctl-bench-backends-") as tmp:
            spec = ServerSpec("fake backend", SERVER_ARGV, _env(), REPO_ROOT)
            server = Server(spec, Path(tmp) / "server.log", {})
            server.start()
            try:
                _log(f"backends benchmark: {', '.join(clients)}; {cfg.rounds} rounds")
                results = collect(clients, pythons, server, cfg)
                profile = None
                if args.profile:
                    args.out_dir.mkdir(parents=True, exist_ok=True)
                    profile = profile_clients(clients, pythons, server, cfg, args.out_dir)
            finally:
                server.stop()
    except (MeasurementError, subprocess.TimeoutExpired) as exc:
        _log(f"benchmark crashed: {exc}")
        return 1

    first = {client: runs[0] for client, runs in results.items()}
    meta = {
        **machine("benchmarks.backends.run"),
        "versions": {client: result["versions"] for client, result in first.items()},
        "plugin": first[LLMCTL]["plugin"] if LLMCTL in first else plugin,
        "observed_chunks": {client: result["observed_chunks"] for client, result in first.items()},
        "interpreters": pythons,
        "server": {"argv": list(SERVER_ARGV), "cwd": str(REPO_ROOT)},
        "config": dataclasses.asdict(cfg),
        "env": SUBPROCESS_ENV,
    }
    if profile is not None:
        meta["profile"] = "backends-profile.md"
    write_results(args, cfg, results, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
