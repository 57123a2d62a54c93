"""The ``llmctl`` console script, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

import llmctl
from conftest import SitePackages


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


# -- llmctl providers -------------------------------------------------------------------------

GROUP = "litellm.providers"
GOOD = """
import llmctl

class Good(llmctl.CustomLLM):
    def completion(self, *args, **kwargs): ...
    async def acompletion(self, *args, **kwargs): ...
    def streaming(self, *args, **kwargs): ...
    def health_check(self):
        return {"status": "up"}

class Hung(Good):
    def health_check(self):
        import time
        time.sleep(30)
"""


def providers(site: SitePackages, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LLMCTL_")}
    environ.update(PYTHONPATH=str(site.root), **env)
    return subprocess.run(
        [sys.executable, "-m", "llmctl", "providers", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=environ,
    )


@pytest.fixture
def installed(site: SitePackages) -> SitePackages:
    site.add("llmctl-good", {GROUP: {"good": "good_plugin:Good"}}, {"good_plugin": GOOD})
    site.add("llmctl-broken", {GROUP: {"broken": "broken_plugin:X"}}, {"broken_plugin": "1/0\n"})
    return site


def test_list_json_has_the_documented_keys_and_imports_nothing(installed: SitePackages) -> None:
    result = providers(installed, "list", "--json")
    assert result.returncode == 0, result.stderr
    ours = {"llmctl-good", "llmctl-broken"}
    rows = [r for r in json.loads(result.stdout) if r["distribution"] in ours]
    assert rows == [
        {
            "name": "broken",
            "source": "entry_point",
            "distribution": "llmctl-broken",
            "version": "1.0",
            "operations": [],
            "status": "unloaded",
            "error": None,
        },
        {
            "name": "good",
            "source": "entry_point",
            "distribution": "llmctl-good",
            "version": "1.0",
            "operations": [],
            "status": "unloaded",
            "error": None,
        },
    ]


def test_list_check_loads_every_plugin_and_fails_on_a_broken_one(installed: SitePackages) -> None:
    result = providers(installed, "list", "--check")
    assert result.returncode == 1
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert lines["good"].split()[1:5] == ["entry", "point", "llmctl-good", "1.0"]
    assert "(a)completion streaming" in lines["good"] and lines["good"].endswith("ok")
    assert "error: plugin 'broken' failed to load" in lines["broken"]
    assert "ZeroDivisionError" in lines["broken"]
    assert "\x1b[" not in result.stdout  # no colour off a terminal
    assert result.stderr == "Error: failed: broken (see llmctl providers show NAME)\n"


def test_show_prints_the_entry_point_and_the_full_load_error(installed: SitePackages) -> None:
    good = providers(installed, "show", "good")
    assert good.returncode == 0
    assert "entry point:  litellm.providers: good = good_plugin:Good" in good.stdout
    assert "health check: True" in good.stdout
    broken = providers(installed, "show", "broken", "--json")
    assert broken.returncode == 1
    (detail,) = json.loads(broken.stdout)
    assert detail["status"] == "error"
    assert "Traceback" in detail["traceback"] and "1/0" in detail["traceback"]


def test_an_unknown_name_exits_1_with_one_line_naming_the_closest(installed: SitePackages) -> None:
    for command in ("show", "check"):
        result = providers(installed, command, "goood")
        assert result.returncode == 1
        assert result.stderr.count("\n") == 1
        assert "Error: no provider 'goood'; did you mean 'good'?" in result.stderr


def test_check_reports_the_health_of_each_provider(installed: SitePackages) -> None:
    good = providers(installed, "check", "good", "--json")
    assert good.returncode == 0, good.stderr
    (report,) = json.loads(good.stdout)
    assert (report["status"], report["answer"]) == ("ok", {"status": "up"})
    assert report["latency_ms"] >= 0
    broken = providers(installed, "check", "broken", "good")
    assert broken.returncode == 1
    assert [line.split()[:2] for line in broken.stdout.splitlines()[1:]] == [
        ["broken", "error"],
        ["good", "ok"],
    ]


def test_every_command_has_help() -> None:
    for args in (
        ["providers"],
        ["providers", "list"],
        ["providers", "show"],
        ["providers", "check"],
    ):
        result = run(*args, "--help")
        assert result.returncode == 0 and result.stdout.startswith("Usage: ")


def test_a_hung_health_check_does_not_keep_the_process_alive(site: SitePackages) -> None:
    site.add("llmctl-hung", {GROUP: {"hung": "good_plugin:Hung"}}, {"good_plugin": GOOD})
    start = time.perf_counter()
    result = providers(site, "check", "hung", "--timeout", "0.2")
    assert time.perf_counter() - start < 10  # the check sleeps 30 s
    assert result.returncode == 1
    assert "no answer within 0.2 s" in result.stdout
