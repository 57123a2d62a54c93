"""Turns raw timings into medians, overheads, ratios and PASS/FAIL, as JSON and tables.

Definitions (all figures are medians):

- A worker splits each timed quantity into batches; its round figure is the median batch.
- ``floor``: the same handler methods called (and streams consumed) directly, no library.
- ``overhead``: library minus floor, computed per round (both come from the same round) and
  then the median over rounds.
- ``ratio``: LiteLLM overhead / llmctl overhead; PASS when at least the target.
- Import: each sample is the wall time of a whole ``python -c "import X"`` process; the floor
  is ``python -c pass``. The target compares whole-process wall times (LiteLLM / llmctl).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from statistics import median
from typing import Any

from benchmarks.core.config import FLOOR, IMPORT_METRIC, WORKER_METRICS, Metric

BASELINE = "litellm"
CANDIDATE = "llmctl"
LABELS = {"llmctl": "llmctl", "litellm": "LiteLLM", FLOOR: "floor"}


@dataclass
class Row:
    """One measurement, summarised across rounds."""

    key: str
    label: str
    unit: str
    floor: float
    #: Median per library (same unit as ``floor``).
    medians: dict[str, float]
    #: Median overhead above the floor per library.
    overheads: dict[str, float]
    target: float | None
    #: LiteLLM / llmctl; for import the whole-process ratio. ``None`` if either is missing.
    ratio: float | None = None
    #: ``"PASS"``, ``"FAIL"``, ``"info"`` (no target) or ``"n/a"`` (a library was not run).
    status: str = "n/a"
    #: Per-round figures, for the JSON only.
    rounds: dict[str, list[float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def _ratio(baseline: float, candidate: float) -> float:
    """``baseline / candidate``; infinite when the candidate is at or below zero (noise)."""
    return math.inf if candidate <= 0 else baseline / candidate


def _judge(row: Row, baseline: float | None, candidate: float | None) -> None:
    if baseline is None or candidate is None:
        row.status = "n/a"
        return
    row.ratio = _ratio(baseline, candidate)
    if row.target is None:
        row.status = "info"
    else:
        row.status = "PASS" if row.ratio >= row.target else "FAIL"


def summarize_worker_metric(
    metric: Metric, results: Mapping[str, Sequence[Mapping[str, Any]]]
) -> Row:
    """Summarise one per-operation metric from every round of every worker."""
    per_round = {
        lib: [median(r["samples"][metric.key]) for r in rounds] for lib, rounds in results.items()
    }
    floor_rounds = per_round[FLOOR]
    libs = [lib for lib in per_round if lib != FLOOR]
    row = Row(
        key=metric.key,
        label=metric.label,
        unit=metric.unit,
        floor=median(floor_rounds),
        medians={lib: median(per_round[lib]) for lib in libs},
        overheads={
            lib: median(v - f for v, f in zip(per_round[lib], floor_rounds, strict=True))
            for lib in libs
        },
        target=metric.target,
        rounds=per_round,
        extra={
            "direct_in_process": {
                lib: median(median(r["direct_samples"][metric.key]) for r in results[lib])
                for lib in libs
            }
        },
    )
    _judge(row, row.overheads.get(BASELINE), row.overheads.get(CANDIDATE))
    return row


def summarize_imports(samples: Mapping[str, Sequence[float]], floor_key: str) -> Row:
    """Summarise whole-process import wall times (seconds in, milliseconds out)."""
    ms = {name: [s * 1000 for s in values] for name, values in samples.items()}
    floor = median(ms[floor_key])
    libs = [name for name in ms if name != floor_key]
    row = Row(
        key=IMPORT_METRIC.key,
        label=IMPORT_METRIC.label,
        unit=IMPORT_METRIC.unit,
        floor=floor,
        medians={lib: median(ms[lib]) for lib in libs},
        overheads={lib: median(ms[lib]) - floor for lib in libs},
        target=IMPORT_METRIC.target,
        rounds=ms,
    )
    _judge(row, row.medians.get(BASELINE), row.medians.get(CANDIDATE))
    if row.status != "n/a":
        row.extra["overhead_ratio"] = _ratio(row.overheads[BASELINE], row.overheads[CANDIDATE])
    return row


def summarize(
    worker_results: Mapping[str, Sequence[Mapping[str, Any]]],
    import_samples: Mapping[str, Sequence[float]],
    import_floor_key: str,
) -> list[Row]:
    """All rows of the report: the per-operation metrics, then import time."""
    rows = [summarize_worker_metric(m, worker_results) for m in WORKER_METRICS]
    rows.append(summarize_imports(import_samples, import_floor_key))
    return rows


def fmt(value: float | None) -> str:
    """Format a figure with about three significant digits (thousands separated)."""
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def fmt_ratio(value: float | None) -> str:
    """Format a ratio such as ``123x`` or ``4.5x``."""
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf (llmctl within noise of floor)"
    return f"{value:,.0f}x" if value >= 100 else f"{value:.1f}x"


def _libs(rows: Sequence[Row]) -> list[str]:
    return [lib for lib in (CANDIDATE, BASELINE) if lib in rows[0].medians]


def table_cells(rows: Sequence[Row], litellm_version: str) -> list[list[str]]:
    """Header plus one line of cells per row, shared by the console and markdown tables."""
    libs = _libs(rows)
    names = {lib: LABELS[lib] + (f" {litellm_version}" if lib == BASELINE else "") for lib in libs}
    header = ["Measurement", "unit", "floor"]
    header += [names[lib] for lib in libs]
    header += [f"{LABELS[lib]} overhead" for lib in libs]
    header += ["ratio", "target", "result"]
    lines = [header]
    for row in rows:
        cells = [row.label, row.unit, fmt(row.floor)]
        cells += [fmt(row.medians[lib]) for lib in libs]
        cells += [fmt(row.overheads[lib]) for lib in libs]
        target = "-" if row.target is None else f">= {row.target:g}x"
        cells += [fmt_ratio(row.ratio), target, row.status]
        lines.append(cells)
    return lines


def throughput_cells(rows: Sequence[Row], batch: int) -> list[list[str]]:
    """``acompletion`` throughput (calls per second), sequential and ``batch`` at a time."""
    libs = _libs(rows)
    lines = [["`acompletion` throughput (calls/s)", "floor", *(LABELS[lib] for lib in libs)]]
    names = {
        "async_call": "sequential awaits",
        "async_gather": f"`asyncio.gather` of {batch} at a time",
    }
    for row in rows:
        if row.key in names:
            values = [row.floor, *(row.medians[lib] for lib in libs)]
            lines.append([names[row.key], *(fmt(1e6 / v) for v in values)])
    return lines


def render_text(lines: Sequence[Sequence[str]]) -> str:
    """Render a space-aligned console table."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = []
    for n, line in enumerate(lines):
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            )
        )
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def render_markdown(lines: Sequence[Sequence[str]]) -> str:
    """Render a markdown table (first column left-aligned, the rest right-aligned)."""
    header, *body = lines
    out = ["| " + " | ".join(header) + " |"]
    out.append("| " + " | ".join([":---"] + ["---:"] * (len(header) - 1)) + " |")
    out += ["| " + " | ".join(line) + " |" for line in body]
    return "\n".join(out)


def markdown_fragment(rows: Sequence[Row], meta: Mapping[str, Any]) -> str:
    """Build the docs/performance.md fragment: both tables and how they were measured."""
    litellm_version = str(meta.get("versions", {}).get(BASELINE, "?"))
    cfg = meta["config"]
    return "\n".join(
        [
            render_markdown(table_cells(rows, litellm_version)),
            "",
            render_markdown(throughput_cells(rows, cfg["gather_batch"])),
            "",
            f"Measured {meta['date']} by `nox -s bench` ({meta['command']}): "
            f"Python {meta['python']} on {meta['platform']}, {meta['cpus']} CPUs; "
            f"versions {', '.join(f'{k} {v}' for k, v in meta['versions'].items())}. "
            f"Medians of {cfg['rounds']} interleaved rounds, each library and the floor in a fresh "
            f"process per round. The handler returns one prebuilt `ModelResponse`, or yields "
            f"{cfg['chunks']} prebuilt `GenericStreamingChunk`s per stream (per-chunk figures are "
            "whole-stream time / chunks). Floor: the same handler methods called directly, no "
            "library imported. Overhead: figure minus floor. Ratio: LiteLLM overhead / llmctl "
            "overhead; for import, LiteLLM / llmctl whole-process wall time "
            f"(`python -c pass` floor, {cfg['import_repeats'] * cfg['rounds']} runs each).",
            "",
        ]
    )


def to_json(rows: Sequence[Row], meta: Mapping[str, Any]) -> dict[str, Any]:
    """Build the full results document written to ``results/core.json``."""

    def clean(value: Any) -> Any:
        if isinstance(value, float) and math.isinf(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return {"meta": dict(meta), "metrics": {row.key: clean(asdict(row)) for row in rows}}
