"""The ``llmctl`` console script, run as a real subprocess."""

from __future__ import annotations

import subprocess
import sys

import llmctl


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmctl", *args], capture_output=True, text=True, timeout=60
    )


def test_version_prints_our_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"llmctl, version {llmctl.__version__}"


def test_help_lists_usage() -> None:
    result = run("--help")
    assert result.returncode == 0 and result.stdout.startswith("Usage: ")


def test_an_unknown_command_is_misuse() -> None:
    result = run("frobnicate")
    assert result.returncode == 2
    assert "No such command 'frobnicate'" in result.stderr
