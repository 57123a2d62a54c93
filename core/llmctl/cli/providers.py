"""``llmctl providers list|show|check``: what is installed, where it comes from, whether it works.

Listing reads entry point metadata only; ``--check``, ``show`` and ``check`` import plugins.
Colour is used only on a terminal (click strips it elsewhere).
"""

from __future__ import annotations

import json
import traceback
from typing import TYPE_CHECKING, Any

import click

from llmctl.handler import OPERATIONS, implements

if TYPE_CHECKING:
    from llmctl.health import HealthReport
    from llmctl.registry import ProviderInfo

__all__ = ["providers"]

_PROBLEMS = frozenset({"error", "conflict", "failed"})
_COLOURS = {
    "ok": "green",
    "error": "red",
    "conflict": "red",
    "failed": "red",
    "unloaded": "cyan",
}


@click.group()
def providers() -> None:
    """List, inspect and health-check the installed providers."""


@providers.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.option("--check", is_flag=True, help="Import every plugin to show its operations or error.")
def list_providers(as_json: bool, check: bool) -> None:
    """List every provider: name, source, distribution, operations and status.

    Exits with 1 when a provider is in conflict or (with --check) failed to load.
    """
    from llmctl.registry import registry

    rows = registry.describe(load=check)
    if as_json:
        click.echo(json.dumps([row.to_json() for row in rows], indent=2))
    elif rows:
        _table(
            ["NAME", "SOURCE", "DISTRIBUTION", "VERSION", "OPERATIONS", "STATUS"],
            [
                [
                    row.name,
                    row.source.replace("_", " "),
                    row.distribution or "-",
                    row.version or "-",
                    _operations(row.operations) or "-",
                    _status(row.status, row.error),
                ]
                for row in rows
            ],
        )
    else:
        click.echo("No providers installed. Install a plugin, e.g. pip install llmctl-ollama.")
    _exit_on_problems([row.name for row in rows if row.status in _PROBLEMS])


@providers.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def show(name: str, as_json: bool) -> None:
    """Show everything about provider NAME, loading its plugin (with the full load error)."""
    from llmctl.registry import registry

    rows = registry.describe(load=True, name=name)
    if not rows:
        raise click.ClickException(_not_found(name))
    details = [_details(row) for row in rows]
    if as_json:
        click.echo(json.dumps(details, indent=2, default=repr))
    else:
        click.echo("\n\n".join(_text(detail) for detail in details))
    _exit_on_problems([row.name for row in rows if row.status in _PROBLEMS])


@providers.command()
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    help="Seconds each check may take.",
)
@click.option(
    "--api-base",
    metavar="URL",
    help="The backend's address, for every check (default: each provider's own setting).",
)
@click.option(
    "--api-key",
    metavar="KEY",
    envvar="LLMCTL_CHECK_API_KEY",
    help="The backend's key, for every check (or LLMCTL_CHECK_API_KEY).",
)
def check(
    names: tuple[str, ...],
    as_json: bool,
    timeout: float,
    api_base: str | None,
    api_key: str | None,
) -> None:
    """Run the health checks of providers NAMES (default: every provider).

    A health check asks the backend something that bills nothing (no completion). Without
    --api-base, each provider finds its backend as it does on a call (its environment
    variable, then its default). Exits with 1 when a check failed or a provider did not load.
    """
    from llmctl.health import check_provider
    from llmctl.registry import registry

    known = registry.names()
    for name in names:
        if name not in known:
            raise click.ClickException(_not_found(name))
    reports = [
        check_provider(name, timeout=timeout, api_base=api_base, api_key=api_key)
        for name in names or known
    ]
    if as_json:
        click.echo(json.dumps([r.to_json() for r in reports], indent=2, default=repr))
    elif reports:
        _table(["NAME", "STATUS", "LATENCY", "ANSWER"], [_report_row(r) for r in reports])
    else:
        click.echo("No providers installed.")
    _exit_on_problems([report.name for report in reports if report.status in _PROBLEMS])


def _exit_on_problems(names: list[str]) -> None:
    """Exit with 1 and one line on stderr when a provider failed (its row says how)."""
    if names:
        listed = ", ".join(dict.fromkeys(names))
        click.echo(f"Error: failed: {listed} (see llmctl providers show NAME)", err=True)
        raise SystemExit(1)


def _not_found(name: str) -> str:
    from llmctl.exceptions import LLMCtlError
    from llmctl.registry import registry

    try:
        registry.provider(name)
    except LLMCtlError as error:
        return error.message
    return f"no provider {name!r}"  # pragma: no cover - describe() lists every provider


def _operations(operations: list[str]) -> str:
    """Render operations compactly: ``(a)completion`` when both the sync and async exist."""
    shown = []
    for sync in OPERATIONS[::2]:
        has_sync, has_async = sync in operations, "a" + sync in operations
        if has_sync or has_async:
            shown.append(("(a)" if has_sync and has_async else "a" if has_async else "") + sync)
    return " ".join(shown)


def _status(status: str, error: str | None) -> str:
    text = f"{status}: {error}" if error else status
    return click.style(text, fg=_COLOURS.get(status, "yellow"))


def _table(header: list[str], rows: list[list[str]]) -> None:
    widths = [
        max(len(click.unstyle(cell)) for cell in column)
        for column in zip(header, *rows, strict=True)
    ]
    for i, row in enumerate([header, *rows]):
        cells = [
            cell + " " * (width - len(click.unstyle(cell)))
            for cell, width in zip(row[:-1], widths, strict=False)
        ]
        line = "  ".join([*cells, row[-1]])
        click.echo(click.style(line, bold=True) if i == 0 else line)


def _details(row: ProviderInfo) -> dict[str, Any]:
    from llmctl.registry import registry

    detail: dict[str, Any] = {**row.to_json(), "entry_point": row.entry_point}
    if row.status == "ok":  # the row of the provider that calls reach
        handler = registry.provider(row.name).handler
        detail["handler"] = repr(handler)
        detail["health_check"] = implements(handler, "health_check")
    if row.exception is not None:
        detail["traceback"] = "".join(traceback.format_exception(row.exception)).rstrip()
    return detail


def _text(detail: dict[str, Any]) -> str:
    lines = []
    for key, value in detail.items():
        if value is None or key == "traceback":
            continue
        if key == "operations":
            value = ", ".join(value) or "- (not loaded)"
        lines.append(f"{key.replace('_', ' ') + ':':<14}{value}")
    if "traceback" in detail:
        lines += ["", detail["traceback"]]
    return "\n".join(lines)


def _report_row(report: HealthReport) -> list[str]:
    latency = "-" if report.latency is None else f"{report.latency * 1000:.1f} ms"
    answer = report.error if report.error else json.dumps(report.answer, default=repr)
    return [report.name, _status(report.status, None), latency, answer]
