"""Turns the proxy benchmark's wrk runs, start-ups and memory into medians, ratios and PASS/FAIL.

Definitions (all figures are medians over rounds; each round starts every server afresh):

- Requests/s, p50 and p99: wrk's figures for one load point (request kind x connections).
- ``llmctl / ceiling``: llmctl's median over the ceiling's. For requests/s a share, PASS when
  at least :data:`~benchmarks.proxy.config.RPS_TARGETS` of its kind; for p99 a ratio, PASS when
  at most :data:`~benchmarks.proxy.config.P99_TARGET`.
- ``vs LiteLLM``: how many times better llmctl does than LiteLLM's proxy: requests/s
  llmctl / LiteLLM; latency and memory LiteLLM / llmctl.
- Start-up: spawn to the first ``200`` from ``GET /health/readiness``; PASS under
  :data:`~benchmarks.proxy.config.STARTUP_TARGET_MS`.
- Memory: resident set of the server's whole process tree after the round's load.
- Errors: wrk's connect, read, write, timeout and status (HTTP >= 400) errors, all rounds,
  warm-ups included; PASS when every server has none.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from benchmarks.core.report import fmt, render_markdown
from benchmarks.proxy.config import (
    CEILING,
    KIND_LABELS,
    LABELS,
    LITELLM,
    LLMCTL,
    LLMCTL_ACCESS_LOG,
    P99_TARGET,
    RPS_TARGETS,
    SERVERS,
    STARTUP_TARGET_MS,
)

#: Columns of the targets table, in order.
COMPARED = (LLMCTL, CEILING, LITELLM)


@dataclass
class Row:
    """One judged (or informational) figure for every server, summarised across rounds."""

    key: str
    label: str
    unit: str
    #: Median per server; ``None`` for a server that was not run.
    values: dict[str, float | None]
    #: llmctl / ceiling; ``None`` if either is missing or the row is not compared.
    ratio: float | None
    #: ``"share"`` (shown as ``74%``), ``"ratio"`` (``1.4x``) or ``""`` (no ratio).
    ratio_kind: str
    #: The target as the table shows it, ``-`` for none.
    target: str
    #: ``"PASS"``, ``"FAIL"``, ``"info"`` (no target) or ``"n/a"`` (a server was not run).
    status: str
    #: How many times better llmctl does than LiteLLM (``None`` if either is missing).
    vs_litellm: float | None
    #: Per-round figures, for the JSON only.
    rounds: dict[str, list[float]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def point_key(kind: str, connections: int) -> str:
    """Return the key of a load point, ``json-c32``."""
    return f"{kind}-c{connections}"


def _div(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    return math.inf if b <= 0 else a / b


def _median(values: Sequence[float]) -> float | None:
    return median(values) if values else None


def _paired(
    rounds: Mapping[str, Sequence[float]], a: str, b: str, *, invert: bool = False
) -> float | None:
    """Median over rounds of ``a / b`` (``b / a`` if ``invert``), each from the same round."""
    if not rounds.get(a) or not rounds.get(b):
        return None
    pairs = zip(rounds[a], rounds[b], strict=False)
    ratios = [_div(y, x) if invert else _div(x, y) for x, y in pairs]
    return median(r for r in ratios if r is not None)


def _point_row(
    samples: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    kind: str,
    connections: int,
    metric: str,
) -> Row:
    key = point_key(kind, connections)
    rounds = {
        name: [run[metric] for run in points.get(key, [])] for name, points in samples.items()
    }
    values = {name: _median(rounds.get(name, [])) for name in COMPARED}
    ratio = _div(values[LLMCTL], values[CEILING])
    higher_is_better = metric == "rps"
    vs_litellm = (
        _div(values[LLMCTL], values[LITELLM])
        if higher_is_better
        else _div(values[LITELLM], values[LLMCTL])
    )
    if metric == "rps":
        goal = RPS_TARGETS[kind]
        target, kind_shown = f">= {goal * 100:.0f}%", "share"
        passed = ratio is not None and ratio >= goal
    elif metric == "p99_ms":
        target, kind_shown = f"<= {P99_TARGET:g}x", "ratio"
        passed = ratio is not None and ratio <= P99_TARGET
    else:
        target, kind_shown, passed = "-", "ratio", False
    if ratio is None:
        status = "n/a"
    elif target == "-":
        status = "info"
    else:
        status = "PASS" if passed else "FAIL"
    what = {"rps": "requests/s", "p50_ms": "p50 latency", "p99_ms": "p99 latency"}[metric]
    return Row(
        key=f"{key}-{metric}",
        label=f"{KIND_LABELS[kind]}, {connections} connections: {what}",
        unit="req/s" if metric == "rps" else "ms",
        values=values,
        ratio=ratio,
        ratio_kind=kind_shown,
        target=target,
        status=status,
        vs_litellm=vs_litellm,
        rounds={name: list(v) for name, v in rounds.items() if v},
        extra={
            "paired_llmctl_over_ceiling": _paired(rounds, LLMCTL, CEILING),
            "paired_vs_litellm": _paired(rounds, LLMCTL, LITELLM, invert=not higher_is_better),
        },
    )


def point_rows(
    samples: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    kinds: Sequence[str],
    connections: Sequence[int],
) -> list[Row]:
    """Requests/s and p99 rows (judged) for every load point, kind by kind."""
    return [
        _point_row(samples, kind, c, metric)
        for kind in kinds
        for c in connections
        for metric in ("rps", "p99_ms")
    ]


def process_rows(
    startup_s: Mapping[str, Sequence[float]],
    rss_load: Mapping[str, Sequence[int]],
    errors: Mapping[str, int],
) -> list[Row]:
    """Start-up, memory and error rows."""
    startup = {name: [s * 1000 for s in v] for name, v in startup_s.items()}
    start_values = {name: _median(startup.get(name, [])) for name in COMPARED}
    llmctl_start = start_values[LLMCTL]
    rss = {name: [b / 2**20 for b in v] for name, v in rss_load.items()}
    rss_values = {name: _median(rss.get(name, [])) for name in COMPARED}
    error_values: dict[str, float | None] = {
        name: float(errors[name]) if name in errors else None for name in COMPARED
    }
    all_errors = sum(errors.values())
    return [
        Row(
            key="startup",
            label="start-up (spawn to first 200 from /health/readiness)",
            unit="ms",
            values=start_values,
            ratio=_div(llmctl_start, start_values[CEILING]),
            ratio_kind="ratio",
            target=f"< {STARTUP_TARGET_MS:,.0f} ms",
            status="n/a"
            if llmctl_start is None
            else ("PASS" if llmctl_start < STARTUP_TARGET_MS else "FAIL"),
            vs_litellm=_div(start_values[LITELLM], llmctl_start),
            rounds={name: v for name, v in startup.items() if v},
        ),
        Row(
            key="rss",
            label="memory after load (RSS of the process tree)",
            unit="MiB",
            values=rss_values,
            ratio=_div(rss_values[LLMCTL], rss_values[CEILING]),
            ratio_kind="ratio",
            target="-",
            status="info" if rss_values[LLMCTL] is not None else "n/a",
            vs_litellm=_div(rss_values[LITELLM], rss_values[LLMCTL]),
            rounds={name: v for name, v in rss.items() if v},
        ),
        Row(
            key="errors",
            label="errors and HTTP errors (all rounds and warm-ups)",
            unit="count",
            values=error_values,
            ratio=None,
            ratio_kind="",
            target="0 (every server)",
            status="PASS" if all_errors == 0 else "FAIL",
            vs_litellm=None,
            extra={"by_server": dict(errors)},
        ),
    ]


def access_log_row(
    samples: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]], kind: str, connections: int
) -> Row | None:
    """Compare llmctl with its access log on and off at one load point (informational)."""
    key = point_key(kind, connections)
    on = [run["rps"] for run in samples.get(LLMCTL_ACCESS_LOG, {}).get(key, [])]
    off = [run["rps"] for run in samples.get(LLMCTL, {}).get(key, [])]
    if not on:
        return None
    values: dict[str, float | None] = {name: None for name in COMPARED}
    values[LLMCTL] = _median(on)
    return Row(
        key=f"access-log-{key}",
        label=f"{KIND_LABELS[kind]}, {connections} connections: requests/s, access log on",
        unit="req/s",
        values=values,
        ratio=None,
        ratio_kind="",
        target="-",
        status="info",
        vs_litellm=None,
        rounds={LLMCTL_ACCESS_LOG: on, LLMCTL: off},
        extra={"share_of_access_log_off": _div(_median(on), _median(off))},
    )


def fmt_ratio(row: Row) -> str:
    """``74%`` for shares, ``1.4x`` for ratios, ``-`` when there is none."""
    if row.ratio is None or not row.ratio_kind:
        return "-"
    if math.isinf(row.ratio):
        return "inf"
    return f"{row.ratio * 100:.0f}%" if row.ratio_kind == "share" else f"{row.ratio:.2f}x"


def fmt_times(value: float | None) -> str:
    """``52x`` (how many times better llmctl does than LiteLLM), or ``-``."""
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:,.0f}x" if value >= 100 else f"{value:.1f}x"


def _fmt_value(row: Row, name: str) -> str:
    value = row.values.get(name)
    if row.unit == "count" and value is not None:
        return f"{value:.0f}"
    return fmt(value)


def table_cells(rows: Sequence[Row]) -> list[list[str]]:
    """Return the targets table: header plus one line of cells per row."""
    header = ["Measurement", "unit", *(LABELS[n] for n in COMPARED)]
    lines = [[*header, "llmctl / ceiling", "target", "result", "llmctl vs LiteLLM"]]
    for row in rows:
        lines.append(
            [
                row.label,
                row.unit,
                *(_fmt_value(row, name) for name in COMPARED),
                fmt_ratio(row),
                row.target,
                row.status,
                fmt_times(row.vs_litellm),
            ]
        )
    return lines


def figure_cells(
    samples: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
    points: Sequence[tuple[str, int]],
) -> list[list[str]]:
    """Return the figures table: every server at every load point it was measured at."""
    lines = [["Load", "server", "req/s", "p50 ms", "p99 ms", "errors", "bytes read/reply"]]
    for kind, connections in points:
        key = point_key(kind, connections)
        for name in SERVERS:
            runs = samples.get(name, {}).get(key, [])
            if not runs:
                continue
            lines.append(
                [
                    f"{KIND_LABELS[kind]}, {connections} conn.",
                    LABELS[name],
                    fmt(median(r["rps"] for r in runs)),
                    fmt(median(r["p50_ms"] for r in runs)),
                    fmt(median(r["p99_ms"] for r in runs)),
                    str(sum(r["errors"] for r in runs)),
                    f"{median(r['bytes_per_response'] for r in runs):,.0f}",
                ]
            )
    return lines


def markdown_fragment(
    rows: Sequence[Row], figures: Sequence[Sequence[str]], meta: Mapping[str, Any]
) -> str:
    """Build ``results/proxy.md``: both tables and how they were measured."""
    cfg = meta["config"]
    found = meta["versions"]
    stack = ", ".join(f"{k} {v}" for k, v in found["stack"].items())
    versions = f"llmctl {found['llmctl']} ({stack})"
    if "litellm" in found:
        theirs = ", ".join(f"{k} {v}" for k, v in found["litellm_stack"].items())
        same = " (the same)" if found["litellm_stack"] == found["stack"] else f" ({theirs})"
        versions += f", LiteLLM {found['litellm']}{same}"
    return "\n".join(
        [
            render_markdown(table_cells(rows)),
            "",
            render_markdown(figures),
            "",
            f"Measured {meta['date']} ({meta['command']}): Python {meta['python']} on "
            f"{meta['platform']}, {meta['cpus']} CPUs, load generator and servers on the same "
            f"machine; {versions}. Each server runs one worker process on 127.0.0.1 with "
            "uvloop and httptools: `llmctl serve --no-access-log`, LiteLLM's proxy "
            "(`litellm --config ... --num_workers 1`, its `[proxy]` requirements in a venv of "
            "its own), and the ceiling, a bare Starlette app on uvicorn that parses the request "
            "and sends prebuilt bytes (llmctl's own reply, captured at the start of the run). "
            "llmctl and LiteLLM call the same `CustomLLM` handler (`custom_provider_map`), which "
            "returns one prebuilt `ModelResponse` or yields "
            f"{meta['stream_chunks']} `GenericStreamingChunk`s. Load: "
            f"`{meta['wrk']}` with `-t {cfg['threads']} -c N -d {cfg['duration_s']}s` POSTing "
            "to `/v1/chat/completions` (a stream is timed to its `data: [DONE]`), after "
            f"{cfg['warmup_s']} s of the same load untimed; every server gets the same "
            "`Authorization: Bearer` header. Medians of "
            f"{cfg['rounds']} rounds; each round starts every server afresh and measures every "
            "load point, the servers' order rotating from point to point. Start-up: median of "
            f"{cfg['rounds'] * (1 + cfg['start_repeats'])} starts per server.",
            "",
        ]
    )
