"""What every benchmark's command line shares: the run flags, the configuration, the machine."""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import math
import os
import platform
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, TypeVar

#: Where results go unless ``--out-dir`` (or ``BENCH_OUT_DIR``) says otherwise.
DEFAULT_OUT_DIR = Path(__file__).resolve().parent / "results"


class RunConfig(Protocol):
    """A benchmark configuration: a dataclass with ``rounds`` that can scale its counts."""

    @property
    def rounds(self) -> int:
        """Interleaved rounds to run."""

    def scaled(self, factor: int) -> Any:
        """Return the configuration with its timed counts multiplied by ``factor``."""


C = TypeVar("C", bound=RunConfig)


def run_parser(
    module: str, description: str, *, rounds_help: str, scale_help: str, results: str
) -> argparse.ArgumentParser:
    """Return a parser with ``--quick``, ``--rounds``, ``--scale`` and ``--out-dir``.

    Each flag defaults to its ``BENCH_*`` environment variable.
    """
    env = os.environ
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=description)
    parser.add_argument(
        "--quick",
        action="store_true",
        default=env.get("BENCH_QUICK", "") not in ("", "0"),
        help="smoke run with small counts",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=int(env["BENCH_ROUNDS"]) if "BENCH_ROUNDS" in env else None,
        help=rounds_help,
    )
    parser.add_argument(
        "--scale", type=int, default=int(env.get("BENCH_SCALE", "1")), help=scale_help
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path(env.get("BENCH_OUT_DIR", DEFAULT_OUT_DIR)),
        help=f"where {results} go (default: benchmarks/results)",
    )
    return parser


def chosen_config(args: argparse.Namespace, quick: C, full: C) -> C:
    """Return the configuration the flags ask for: quick or full, scaled, its rounds."""
    cfg: C = (quick if args.quick else full).scaled(max(1, args.scale))
    if args.rounds is not None:
        cfg = dataclasses.replace(cfg, rounds=max(1, args.rounds))  # type: ignore[type-var]
    return cfg


def machine(module: str) -> dict[str, Any]:
    """Return when, how and where a run was taken, for its results' metadata."""
    return {
        "date": datetime.date.today().isoformat(),
        "command": shlex.join(["python", "-m", module, *sys.argv[1:]]),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def json_safe(value: Any) -> Any:
    """Return ``value`` as JSON can hold it: infinities as None, tuples as lists, str keys."""
    if isinstance(value, float) and math.isinf(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def results_document(rows: Any, meta: Mapping[str, Any], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return a run's results as ``results/<name>.json`` holds them.

    :param rows: the report's rows, dataclasses with a ``key``.
    """
    return {
        "meta": json_safe(dict(meta)),
        "metrics": {row.key: json_safe(dataclasses.asdict(row)) for row in rows},
        "raw": json_safe(dict(raw)),
    }
