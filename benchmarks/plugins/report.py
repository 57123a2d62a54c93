"""Turns the plugin benchmark's raw timings into medians, ratios and PASS/FAIL.

Definitions (all figures are medians over rounds):

- Dispatch: each worker alternates batches of ``llmctl.completion(model="p0/m")`` with batches
  of the plugin's ``handler.completion`` called directly (the floor); its round figure for each
  is the fastest batch (:func:`batch_figure`), and its overhead the difference. The row
  compares the median overhead with 50 providers installed (``llmctl``) with the median
  overhead with 1 (``comparison``); ``ratio`` is 50 / 1, PASS when at most
  :data:`~benchmarks.plugins.config.DISPATCH_TARGET`.
- Whole process: wall time of the command, from spawn to exit. ``comparison`` is
  ``litellm --help`` from the same rounds; ``ratio`` is command / ``litellm --help``, PASS when
  under :data:`~benchmarks.plugins.config.PROCESS_TARGET`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from benchmarks.core.report import fmt, render_markdown
from benchmarks.plugins.config import DISPATCH_TARGET, FEW, MANY, PROCESS_TARGET


@dataclass
class Row:
    """One measurement, summarised across rounds."""

    key: str
    label: str
    unit: str
    #: llmctl's figure: with ``MANY`` providers for dispatch rows, the command for the others.
    value: float
    #: What it is compared with: ``FEW`` providers, or ``litellm --help``.
    comparison: float
    #: ``value / comparison``.
    ratio: float
    #: ``"ratio"`` (shown as ``1.02x``) or ``"share"`` (shown as ``3.1%``).
    ratio_kind: str
    #: The target ratio, or ``None`` for informational rows.
    target: float | None
    #: ``"PASS"``, ``"FAIL"`` or ``"info"``.
    status: str = "info"
    #: Per-round figures, for the JSON only.
    rounds: dict[str, list[float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def _ratio(value: float, comparison: float) -> float:
    return math.inf if comparison <= 0 else value / comparison


def _dispatch_row(
    key: str,
    label: str,
    per_round: Mapping[int, Sequence[float]],
    *,
    target: float | None,
    unit: str = "µs/call",
    extra: Mapping[str, Any] | None = None,
) -> Row:
    value, comparison = median(per_round[MANY]), median(per_round[FEW])
    ratio = _ratio(value, comparison)
    status = "info" if target is None else ("PASS" if ratio <= target else "FAIL")
    paired = [_ratio(m, f) for m, f in zip(per_round[MANY], per_round[FEW], strict=True)]
    return Row(
        key=key,
        label=label,
        unit=unit,
        value=value,
        comparison=comparison,
        ratio=ratio,
        ratio_kind="ratio",
        target=target,
        status=status,
        rounds={f"providers_{n}": list(v) for n, v in per_round.items()},
        extra={"median_of_paired_round_ratios": median(paired), **(extra or {})},
    )


def batch_figure(batches: Sequence[float]) -> float:
    """Return a worker's figure for one quantity: its fastest batch.

    Not the median, as in the core benchmark: on a shared two-core machine a neighbour's burst
    (a test suite building venvs) can slow most of one worker's batches twofold, and such
    noise only ever adds time; the fastest batch is the least disturbed (as ``timeit`` says).
    Every worker has as many batches, so both venvs are judged alike.
    """
    return min(batches)


def dispatch_rows(results: Mapping[int, Sequence[Mapping[str, Any]]]) -> list[Row]:
    """Rows from the workers' results, keyed by provider count (one result per round)."""

    def per_round(fn: Any) -> dict[int, list[float]]:
        return {n: [fn(r) for r in rounds] for n, rounds in results.items()}

    def fig(name: str, stat: Any = batch_figure) -> Any:
        return lambda r: stat(r["samples"][name])

    def overhead(op: str, stat: Any = batch_figure) -> Any:
        return lambda r: stat(r["samples"][f"{op}_call"]) - stat(r["samples"][f"{op}_floor"])

    def with_medians(op: str) -> dict[str, Any]:
        by_median = per_round(overhead(op, median))
        return {
            "median_batch_overhead": {f"providers_{n}": v for n, v in by_median.items()},
            "median_batch_ratio": _ratio(median(by_median[MANY]), median(by_median[FEW])),
        }

    vs = f"{MANY} vs {FEW} providers"
    return [
        _dispatch_row(
            "sync_overhead",
            f'`completion("p0/m")` overhead, {vs}',
            per_round(overhead("sync")),
            target=DISPATCH_TARGET,
            extra=with_medians("sync"),
        ),
        _dispatch_row(
            "async_overhead",
            f'`acompletion("p0/m")` overhead, {vs}',
            per_round(overhead("async")),
            target=DISPATCH_TARGET,
            extra=with_medians("async"),
        ),
        _dispatch_row(
            "sync_call",
            f"`completion` per call, {vs}",
            per_round(fig("sync_call")),
            target=None,
        ),
        _dispatch_row(
            "sync_floor",
            f"bare handler call (floor), {vs}",
            per_round(fig("sync_floor")),
            target=None,
        ),
        _dispatch_row(
            "first_call",
            f"first `completion` (discovery, plugin import), {vs}",
            per_round(lambda r: r["first_call_s"] * 1000),
            target=None,
            unit="ms",
        ),
    ]


#: Whole-process commands in report order: key, label, target share of ``litellm --help``.
PROCESS_ROWS: tuple[tuple[str, str, float | None], ...] = (
    ("providers_list", f"`llmctl providers list` ({MANY} plugins)", PROCESS_TARGET),
    ("llmctl_help", f"`llmctl --help` ({MANY} plugins)", PROCESS_TARGET),
    ("providers_list_few", f"`llmctl providers list` ({FEW} plugin)", None),
    (
        "read_entry_points",
        "import click, pluggy, importlib_metadata; read entry points",
        None,
    ),
    ("import_click", '`python -c "import click, importlib_metadata"`', None),
    ("python_pass", "`python -c pass`", None),
)
BASELINE = "litellm_help"


def process_rows(samples: Mapping[str, Sequence[float]]) -> list[Row]:
    """Rows for the whole-process wall times (seconds in, milliseconds out)."""
    ms = {key: [s * 1000 for s in values] for key, values in samples.items()}
    baseline, floor = median(ms[BASELINE]), median(ms["python_pass"])
    rows = []
    for key, label, target in PROCESS_ROWS:
        value = median(ms[key])
        ratio = _ratio(value, baseline)
        status = "info" if target is None else ("PASS" if ratio < target else "FAIL")
        rows.append(
            Row(
                key=key,
                label=f"{label} vs `litellm --help`",
                unit="ms",
                value=value,
                comparison=baseline,
                ratio=ratio,
                ratio_kind="share",
                target=target,
                status=status,
                rounds={key: ms[key], BASELINE: ms[BASELINE]},
                extra={
                    "above_python_pass_ms": value - floor,
                    "litellm_help_above_python_pass_ms": baseline - floor,
                },
            )
        )
    return rows


def fmt_ratio(row: Row) -> str:
    """``1.02x`` for dispatch rows, ``3.1%`` for whole-process rows."""
    if math.isinf(row.ratio):
        return "inf"
    if row.ratio_kind == "share":
        return f"{row.ratio * 100:.1f}%"
    return f"{row.ratio:.2f}x"


def fmt_target(row: Row) -> str:
    """Format the target as the table shows it."""
    if row.target is None:
        return "-"
    if row.ratio_kind == "share":
        return f"< {row.target * 100:g}%"
    return f"<= {row.target:.2f}x"


def table_cells(rows: Sequence[Row]) -> list[list[str]]:
    """Header plus one line of cells per row, for the console and markdown tables."""
    lines = [["Measurement", "unit", "llmctl", "comparison", "ratio", "target", "result"]]
    for row in rows:
        lines.append(
            [
                row.label,
                row.unit,
                fmt(row.value),
                fmt(row.comparison),
                fmt_ratio(row),
                fmt_target(row),
                row.status,
            ]
        )
    return lines


def markdown_fragment(rows: Sequence[Row], meta: Mapping[str, Any]) -> str:
    """Build ``results/plugins.md``: the table and how it was measured."""
    cfg = meta["config"]
    return "\n".join(
        [
            render_markdown(table_cells(rows)),
            "",
            f"Measured {meta['date']} ({meta['command']}): Python {meta['python']} on "
            f"{meta['platform']}, {meta['cpus']} CPUs; llmctl {meta['versions']['llmctl']} "
            f"installed from this repository into two venvs, one with {FEW} and one with {MANY} "
            "generated provider plugins (entry points in `litellm.providers`); LiteLLM "
            f"{meta['versions']['litellm']}. Medians of {cfg['rounds']} interleaved rounds. "
            f"Dispatch rows: `llmctl` is the figure with {MANY} plugins installed, "
            f"`comparison` with {FEW}; each round runs one fresh worker per venv, which "
            f"alternates {cfg['batches']} batches of calls to provider `p0` with batches of "
            "the same plugin handler called directly (the floor) and keeps the fastest of "
            "each (noise from other processes only adds time); overhead is call minus floor. "
            "Whole-process rows: spawn-to-exit wall time, `comparison` is "
            f"`litellm --help` ({cfg['process_repeats'] * cfg['rounds']} runs of each command, "
            "`LITELLM_LOCAL_MODEL_COST_MAP=True`).",
            "",
        ]
    )
