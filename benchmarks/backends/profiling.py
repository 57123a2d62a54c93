"""Where a client's time goes: cProfile runs of the workers, as microseconds per call.

``python -m benchmarks.backends.run --profile`` runs, after the timed rounds, one more worker
per client under cProfile (one batch of each measurement at the judged concurrency) and writes
``results/backends-profile.md``: per measurement, raw httpx's functions with the most time of
their own, and each other client's with the most own time beyond raw httpx's (what it adds),
in microseconds per call (or per chunk). cProfile
slows every Python call, so the figures are larger than the timed ones; the shares are what
they tell.
"""

from __future__ import annotations

import pstats
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from benchmarks.backends.config import LABELS, RAW
from benchmarks.core.report import fmt, render_markdown

#: Functions listed per client and measurement.
TOP: Final = 25
#: Path prefixes shortened in function names.
_SHORTEN: Final = ("site-packages/", "lib/python3.", "/core/", "/plugins/")


def _where(filename: str) -> str:
    for marker in _SHORTEN:
        if marker in filename:
            tail = filename.split(marker, 1)[1]
            return tail.split("/", 1)[1] if marker == "lib/python3." else tail
    return filename


def function_name(func: tuple[str, int, str]) -> str:
    """``httpx/_client.py:1600(send)``, or ``{built-in method ...}``."""
    filename, line, name = func
    if filename == "~":  # a builtin: drop the address, which differs from process to process
        return re.sub(r" at 0x[0-9a-f]+", "", name)
    return f"{_where(filename)}:{line}({name})"


def functions(path: Path, per: int) -> dict[str, dict[str, float]]:
    """Return every function of a profile: own and cumulative µs, and calls, per unit.

    :param per: what the figures are divided by (calls, or chunks).
    """
    stats: Any = pstats.Stats(str(path))
    found: dict[str, dict[str, float]] = {}
    for func, (_, calls, own, cumulative, _) in stats.stats.items():
        row = found.setdefault(
            function_name(func), {"own_us": 0.0, "cumulative_us": 0.0, "calls": 0.0}
        )
        row["own_us"] += own / per * 1e6
        row["cumulative_us"] += cumulative / per * 1e6
        row["calls"] += calls / per
    return found


def top(
    found: Mapping[str, Mapping[str, float]],
    baseline: Mapping[str, Mapping[str, float]] | None = None,
    limit: int = TOP,
) -> list[dict[str, Any]]:
    """Return the ``limit`` functions with the most own time, or most more than ``baseline``'s.

    With a baseline (raw httpx's profile of the same measurement), ``added_us`` is a
    function's own time minus the baseline's, so the httpx and httpcore work both clients do
    cancels out and what remains is what the client adds.
    """
    rows: list[dict[str, Any]] = []
    for name, row in found.items():
        base = (baseline or {}).get(name, {})
        added = row["own_us"] - base.get("own_us", 0.0)
        rows.append({"function": name, **row, "added_us": added})
    key = "added_us" if baseline is not None else "own_us"
    rows.sort(key=lambda row: row[key], reverse=True)
    return rows[:limit]


def summarize(profiles: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per measurement and client: the profiled batch's totals and its top functions.

    Raw httpx's are those with the most own time; every other client's, those with the most
    own time beyond raw httpx's in the same measurement.
    """
    out: dict[str, dict[str, Any]] = {}
    keys = {key for points in profiles.values() for key in points}
    for key in sorted(keys):
        found = {
            client: functions(Path(points[key]["path"]), points[key]["per"])
            for client, points in profiles.items()
            if key in points
        }
        baseline = found.get(RAW)
        for client, functions_found in found.items():
            point = profiles[client][key]
            per = point["per"]
            out.setdefault(key, {})[client] = {
                "cpu_us": point["cpu_s"] / per * 1e6,
                "wall_us": point["wall_s"] / per * 1e6,
                "top": top(functions_found, None if client == RAW else baseline),
            }
    return out


def unit(key: str) -> str:
    """``call`` for a non-streaming measurement, ``chunk`` for a stream."""
    return "call" if key.startswith("json") else "chunk"


def markdown(summary: Mapping[str, Mapping[str, Any]], clients: Sequence[str]) -> str:
    """Render the summary: a table of top functions per measurement and client."""
    out = ["# Backends benchmark: where the time goes (cProfile)", ""]
    for key, by_client in summary.items():
        for client in clients:
            if client not in by_client:
                continue
            found = by_client[client]
            versus = "" if client == RAW else f", by own time beyond {LABELS[RAW]}'s"
            out.append(
                f"## {LABELS[client]}, {key}: {fmt(found['cpu_us'])} µs CPU per {unit(key)} "
                f"under the profiler{versus}"
            )
            out.append("")
            lines = [["function", "own µs", "beyond raw µs", "cumulative µs", "calls"]]
            for row in found["top"]:
                added = "-" if client == RAW else fmt(row["added_us"])
                lines.append(
                    [
                        f"`{row['function']}`",
                        fmt(row["own_us"]),
                        added,
                        fmt(row["cumulative_us"]),
                        fmt(row["calls"]),
                    ]
                )
            out += [render_markdown(lines), ""]
    return "\n".join(out)
