"""Provider plugins pip-installed into a fresh venv are found, called and isolated (#4).

One venv per module: llmctl is installed from this repository first, then the plugins under
``tests/plugins/``. The echo plugin goes in with its dependencies resolved: it requires
``llmctl>=0.2`` and the package index also holds an unrelated ``llmctl`` 0.1.x, so installing
ours first must satisfy the requirement without pulling the other one in. Plugins added later
go in with ``--no-deps``; hatchling sits in the venv so that no build needs an isolated
environment (0.4 s instead of 1.2 s per plugin).

Every check runs in a subprocess of that venv (its ``llmctl`` console script or its python)
with an environment built here, never the outer one. A test that needs another set of
installed distributions gets it from a fixture that restores the base set afterwards, so the
tests pass in any order.
"""

from __future__ import annotations

import json
import os
import subprocess
import venv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = Path(__file__).parent / "plugins"
#: The distributions every test starts from; the rest are installed by fixtures.
BASE_PLUGINS = ("llmctl-echo", "llmctl-hookimpl", "llmctl-calllog")
ROW_KEYS = {"name", "source", "distribution", "version", "operations", "status", "error"}
CHAT = ["completion", "acompletion", "streaming", "astreaming"]

pytestmark = pytest.mark.slow

# Runs `llmctl providers list --json ARGS` in this process (the console script's own main), then
# prints the plugin modules it imported as the last line of stderr. Importing through
# importlib.import_module escapes -X importtime, so sys.modules is what tells.
LIST = """
import atexit, json, sys
from llmctl.cli import main

plugins = lambda: sorted(m for m in sys.modules if m.startswith("llmctl_"))
atexit.register(lambda: print(json.dumps(plugins()), file=sys.stderr))
sys.argv = ["llmctl", "providers", "list", "--json", *sys.argv[1:]]
main()
"""

# Calls each model given on the command line once and prints one JSON object per call:
# the content of the answer, or the class, message and status of the llmctl error.
CALL = """
import json, sys
import llmctl

for model in sys.argv[1:]:
    try:
        r = llmctl.completion(model, [{"role": "user", "content": "hello"}])
        out = {"content": r.choices[0].message.content}
    except llmctl.LLMCtlError as e:
        out = {"error": type(e).__name__, "message": str(e), "status": e.status_code}
    print(json.dumps(out))
"""

# Calls one model in the four ways a caller can (nothing imports the plugin, nothing is
# registered in code) and prints what each answered, the streams as their content pieces.
CALL_FOUR_WAYS = """
import asyncio, json, sys
import llmctl

MODEL = sys.argv[1]
MESSAGES = [{"role": "user", "content": "hello there world"}]


def pieces(chunks):
    return [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]


async def call_async():
    answer = await llmctl.acompletion(MODEL, MESSAGES)
    stream = await llmctl.acompletion(MODEL, MESSAGES, stream=True)
    return answer.choices[0].message.content, pieces([chunk async for chunk in stream])


imported_before = sorted(m for m in sys.modules if m.startswith("llmctl_"))
completion = llmctl.completion(MODEL, MESSAGES).choices[0].message.content
streaming = pieces(llmctl.completion(MODEL, MESSAGES, stream=True))
acompletion, astreaming = asyncio.run(call_async())
print(json.dumps({
    "completion": completion,
    "acompletion": acompletion,
    "streaming": streaming,
    "astreaming": astreaming,
    "imported_before_first_call": imported_before,
    "custom_provider_map": llmctl.custom_provider_map,
}))
"""


class Venv:
    """A virtual environment, and ways to run pip, python and ``llmctl`` inside it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.bin = path / "bin"

    def pip(self, *args: str) -> None:
        # pip alone sees the outer environment: it needs the index configuration.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMCTL_", "PYTHON"))}
        subprocess.run(
            [
                str(self.bin / "python"),
                "-m",
                "pip",
                *args,
                "--quiet",
                "--disable-pip-version-check",
            ],
            check=True,
            env=env,
            timeout=600,
        )

    def install(self, *plugins: str) -> None:
        self.pip(
            "install", "--no-deps", "--no-build-isolation", *(str(PLUGINS / p) for p in plugins)
        )

    def uninstall(self, *distributions: str) -> None:
        self.pip("uninstall", "--yes", *distributions)

    def _environ(self, **variables: str) -> dict[str, str]:
        # Only what is set here: the outer LLMCTL_* switches must not change a result.
        return {
            "PATH": f"{self.bin}{os.pathsep}{os.defpath}",
            "PYTHONNOUSERSITE": "1",
            **variables,
        }

    def run(self, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` with the environment variables ``env`` and no others but PATH."""
        return subprocess.run(
            argv, capture_output=True, text=True, env=self._environ(**env), timeout=60
        )

    def llmctl(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """Run the venv's ``llmctl`` console script."""
        return self.run(str(self.bin / "llmctl"), *args, **env)

    def python(self, code: str, *args: str, **env: str) -> list[Any]:
        """Run ``code`` in the venv's python; return each line it printed, parsed as JSON."""
        result = self.run(str(self.bin / "python"), "-c", code, *args, **env)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]

    def call(self, *models: str, **env: str) -> list[dict[str, Any]]:
        """Call each model once in one process; see :data:`CALL`."""
        return self.python(CALL, *models, **env)

    def providers(self, *args: str, **env: str) -> tuple[list[dict[str, Any]], list[str], int]:
        """Run ``llmctl providers list --json ARGS``; see :data:`LIST`.

        :returns: the rows, the ``llmctl_*`` modules the command imported, its exit code.
        """
        result = self.run(str(self.bin / "python"), "-c", LIST, *args, **env)
        assert result.returncode in (0, 1), result.stderr
        rows = json.loads(result.stdout)
        for row in rows:
            assert set(row) == ROW_KEYS, row
        assert [row["name"] for row in rows] == sorted(row["name"] for row in rows)
        imported = json.loads(result.stderr.splitlines()[-1])
        return rows, imported, result.returncode


def by_name(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in rows}


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    where = Venv(tmp_path_factory.mktemp("venv"))
    venv.create(where.path, with_pip=True)
    where.pip("install", str(ROOT), "hatchling")
    where.pip("install", "--no-build-isolation", *(str(PLUGINS / p) for p in BASE_PLUGINS))
    return where


@pytest.fixture
def without_echo(plugin_venv: Venv) -> Iterator[None]:
    plugin_venv.uninstall("llmctl-echo")
    try:
        yield
    finally:
        plugin_venv.install("llmctl-echo")


@pytest.fixture
def with_broken(plugin_venv: Venv) -> Iterator[None]:
    plugin_venv.install("llmctl-broken")
    try:
        yield
    finally:
        plugin_venv.uninstall("llmctl-broken")


@pytest.fixture
def with_twin(plugin_venv: Venv) -> Iterator[None]:
    plugin_venv.install("llmctl-echo-twin")
    try:
        yield
    finally:
        plugin_venv.uninstall("llmctl-echo-twin")


# -- installing beside our llmctl ---------------------------------------------------------------


def test_plugin_install_keeps_our_llmctl(plugin_venv: Venv) -> None:
    code = (
        "import importlib.metadata as md, json, llmctl, llmctl_echo;"
        "print(json.dumps("
        "    [md.version('llmctl'), llmctl.__version__, hasattr(llmctl, 'CustomLLM')]))"
    )
    assert plugin_venv.python(code) == [["0.2.0", "0.2.0", True]]


def test_console_script_is_ours(plugin_venv: Venv) -> None:
    result = plugin_venv.llmctl("--version")
    assert result.stdout.strip() == "llmctl, version 0.2.0"


def test_installed_plugin_answers_through_custom_provider_map_which_beats_its_entry_point(
    plugin_venv: Venv,
) -> None:
    code = """
import json, llmctl, llmctl_echo

class Mine(llmctl.CustomLLM):
    def completion(self, *, messages, **kwargs):
        return llmctl.ModelResponse(choices=[{"message": {"content": "code"}}])

llmctl.custom_provider_map = [
    {"provider": "mine", "custom_handler": llmctl_echo.handler},
    {"provider": "echo", "custom_handler": Mine()},
]
for model in ("mine/m", "echo/m"):
    r = llmctl.completion(model, [{"role": "user", "content": "ping"}])
    print(json.dumps(r.choices[0].message.content))
"""
    assert plugin_venv.python(code) == ["echo:completion:ping", "code"]


# -- listing -------------------------------------------------------------------------------------


def test_list_reads_metadata_only(plugin_venv: Venv) -> None:
    rows, imported, code = plugin_venv.providers()
    assert code == 0
    assert imported == []
    assert rows == [
        {
            "name": "echo",
            "source": "entry_point",
            "distribution": "llmctl-echo",
            "version": "0.1.0",
            "operations": [],
            "status": "unloaded",
            "error": None,
        },
        {
            "name": "hooky",
            "source": "entry_point",
            "distribution": "llmctl-hookimpl",
            "version": "0.1.0",
            "operations": [],
            "status": "unloaded",
            "error": None,
        },
    ]


def test_list_check_loads_each_plugin_and_shows_its_operations(plugin_venv: Venv) -> None:
    rows, imported, code = plugin_venv.providers("--check")
    assert code == 0
    assert imported == ["llmctl_echo", "llmctl_hookimpl"]
    echo, hooky = by_name(rows)["echo"], by_name(rows)["hooky"]
    assert (echo["status"], echo["operations"], echo["error"]) == ("ok", CHAT, None)
    assert (hooky["status"], hooky["operations"], hooky["error"]) == (
        "ok",
        ["completion", "streaming"],
        None,
    )


def test_list_table_names_provider_and_distribution(plugin_venv: Venv) -> None:
    result = plugin_venv.llmctl("providers", "list")
    assert result.returncode == 0, result.stderr
    assert "echo" in result.stdout and "llmctl-echo" in result.stdout
    assert "hooky" in result.stdout and "llmctl-hookimpl" in result.stdout


def test_show_prints_the_entry_point(plugin_venv: Venv) -> None:
    result = plugin_venv.llmctl("providers", "show", "echo")
    assert result.returncode == 0, result.stderr
    assert "llmctl_echo:handler" in result.stdout
    assert "llmctl-echo" in result.stdout


def test_show_unknown_name_suggests_closest(plugin_venv: Venv) -> None:
    result = plugin_venv.llmctl("providers", "show", "ech")
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "'echo'" in lines[0], result.stderr


# -- calling -------------------------------------------------------------------------------------


def test_every_kind_of_call_reaches_its_own_method_of_the_plugin(plugin_venv: Venv) -> None:
    [answer] = plugin_venv.python(CALL_FOUR_WAYS, "echo/m")
    assert answer == {
        "completion": "echo:completion:hello there world",
        "acompletion": "echo:acompletion:hello there world",
        "streaming": ["echo:streaming:hello ", "there ", "world"],
        "astreaming": ["echo:astreaming:hello ", "there ", "world"],
        "imported_before_first_call": [],
        "custom_provider_map": [],
    }


def test_hookimpl_module_plugin_answers_every_kind_of_call(plugin_venv: Venv) -> None:
    [answer] = plugin_venv.python(CALL_FOUR_WAYS, "hooky/tiny")
    # completion and streaming are its own hooks; the async calls are bridged to them.
    assert answer == {
        "completion": "hooky:completion:tiny:hello there world",
        "acompletion": "hooky:completion:tiny:hello there world",
        "streaming": ["hooky:streaming:hello ", "there ", "world"],
        "astreaming": ["hooky:streaming:hello ", "there ", "world"],
        "imported_before_first_call": [],
        "custom_provider_map": [],
    }


def test_call_hook_plugin_from_entry_point_sees_every_call(
    plugin_venv: Venv, tmp_path: Path
) -> None:
    log = tmp_path / "calls.log"
    plugin_venv.python(CALL_FOUR_WAYS, "echo/m", CALLLOG_FILE=str(log))
    # post_call of a stream runs once, at its end, with the response rebuilt from its chunks.
    assert log.read_text().splitlines() == [
        line
        for method in ("completion", "streaming", "acompletion", "astreaming")
        for line in ("pre_call echo/m", f"post_call echo/m echo:{method}:hello there world")
    ]


@pytest.mark.parametrize(
    "switch",
    [
        pytest.param({"LLMCTL_DISABLE_PLUGINS": "llmctl-calllog"}, id="disabled"),
        pytest.param({"LLMCTL_LOAD_PLUGINS": "llmctl-echo"}, id="not-loaded"),
    ],
)
def test_environment_switches_apply_to_call_hook_plugins(
    plugin_venv: Venv, tmp_path: Path, switch: dict[str, str]
) -> None:
    log = tmp_path / "calls.log"
    answers = plugin_venv.call("echo/m", CALLLOG_FILE=str(log), **switch)
    assert answers == [{"content": "echo:completion:hello"}]
    assert not log.exists()


def test_uninstalled_plugin_disappears(plugin_venv: Venv, without_echo: None) -> None:
    rows, _, code = plugin_venv.providers()
    assert code == 0
    assert [row["name"] for row in rows] == ["hooky"]
    [answer] = plugin_venv.call("echo/m")
    assert answer["error"] == "ProviderNotFoundError"
    assert "'echo'" in answer["message"]


# -- a plugin that fails to import ---------------------------------------------------------------


def test_broken_plugin_is_listed_without_being_imported(
    plugin_venv: Venv, with_broken: None
) -> None:
    rows, imported, code = plugin_venv.providers()
    assert code == 0
    assert imported == []
    assert by_name(rows)["broken"] == {
        "name": "broken",
        "source": "entry_point",
        "distribution": "llmctl-broken",
        "version": "0.1.0",
        "operations": [],
        "status": "unloaded",
        "error": None,
    }


def test_broken_plugin_shows_its_error_on_check(plugin_venv: Venv, with_broken: None) -> None:
    rows, _, code = plugin_venv.providers("--check")
    assert code == 1
    broken = by_name(rows)["broken"]
    assert broken["status"] == "error"
    assert "No module named 'llmctl_missing_dependency'" in broken["error"]
    assert "\n" not in broken["error"]
    assert by_name(rows)["echo"]["status"] == "ok"


def test_broken_plugin_fails_alone(plugin_venv: Venv, with_broken: None) -> None:
    broken, echo = plugin_venv.call("broken/x", "echo/x")
    assert (broken["error"], broken["status"]) == ("PluginLoadError", 500)
    for part in ("llmctl-broken", "llmctl_broken:handler", "llmctl_missing_dependency"):
        assert part in broken["message"]
    assert echo == {"content": "echo:completion:hello"}


def test_show_broken_plugin_prints_the_full_error(plugin_venv: Venv, with_broken: None) -> None:
    result = plugin_venv.llmctl("providers", "show", "broken")
    for part in (
        "llmctl-broken",
        "llmctl_broken:handler",
        "ModuleNotFoundError",
        "No module named 'llmctl_missing_dependency'",
    ):
        assert part in result.stdout, result.stdout + result.stderr


# -- two distributions claiming one name ---------------------------------------------------------


def test_name_claimed_twice_is_a_conflict(plugin_venv: Venv, with_twin: None) -> None:
    rows, _, code = plugin_venv.providers()
    assert code == 1
    echo_rows = [row for row in rows if row["name"] == "echo"]
    assert echo_rows and {row["status"] for row in echo_rows} == {"conflict"}
    said = json.dumps(echo_rows)
    assert "llmctl-echo" in said and "llmctl-echo-twin" in said
    [answer] = plugin_venv.call("echo/m")
    assert (answer["error"], answer["status"]) == ("PluginLoadError", 500)
    for part in ("llmctl-echo", "llmctl-echo-twin", "LLMCTL_PROVIDER_ECHO"):
        assert part in answer["message"]


@pytest.mark.parametrize(
    ("variables", "chosen", "content"),
    [
        pytest.param(
            {"LLMCTL_PROVIDER_ECHO": "llmctl-echo-twin"},
            "llmctl-echo-twin",
            "twin:hello",
            id="provider-twin",
        ),
        pytest.param(
            {"LLMCTL_PROVIDER_ECHO": "llmctl-echo"},
            "llmctl-echo",
            "echo:completion:hello",
            id="provider-echo",
        ),
        pytest.param(
            {"LLMCTL_DISABLE_PLUGINS": "llmctl-echo-twin"},
            "llmctl-echo",
            "echo:completion:hello",
            id="disable-twin",
        ),
    ],
)
def test_conflict_is_resolved_by_environment(
    plugin_venv: Venv, with_twin: None, variables: dict[str, str], chosen: str, content: str
) -> None:
    rows, _, code = plugin_venv.providers(**variables)
    assert code == 0
    echo_rows = [row for row in rows if row["name"] == "echo"]
    # The other distribution may still be listed, as shadowed or disabled, never as a rival.
    assert [row["distribution"] for row in echo_rows if row["status"] == "unloaded"] == [chosen]
    assert {row["status"] for row in echo_rows} <= {"unloaded", "shadowed", "disabled"}
    assert [answer["content"] for answer in plugin_venv.call("echo/m", **variables)] == [content]


def test_load_plugins_loads_only_those(
    plugin_venv: Venv, with_broken: None, with_twin: None
) -> None:
    # Distribution names compare PEP 503-normalised: LLMCtl_Broken is llmctl-broken.
    rows, imported, code = plugin_venv.providers("--check", LLMCTL_LOAD_PLUGINS="LLMCtl_Broken")
    assert code == 1
    assert imported == []  # not echo, not hookimpl; broken failed, so sys.modules dropped it
    assert by_name(rows)["broken"]["status"] == "error"
    assert {row["status"] for row in rows if row["name"] != "broken"} <= {"disabled"}
    broken, echo = plugin_venv.call("broken/x", "echo/x", LLMCTL_LOAD_PLUGINS="LLMCtl_Broken")
    assert broken["error"] == "PluginLoadError"
    assert "error" in echo and "content" not in echo
