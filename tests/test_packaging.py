"""A plugin that depends on ``llmctl>=0.2`` installs beside our llmctl in a fresh venv.

The package index also holds an unrelated ``llmctl`` 0.1.x; installing ours from this
repository first must satisfy the plugin's requirement, so the other one is never pulled in.
"""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = Path(__file__).parent / "plugins" / "llmctl-echo"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("venv")
    venv.create(where, with_pip=True)
    python = where / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, str(ROOT)], check=True, timeout=600)
    subprocess.run([*pip, str(PLUGIN)], check=True, timeout=600)
    return python


def test_plugin_install_keeps_our_llmctl(fresh_venv: Path) -> None:
    code = (
        "import importlib.metadata as md, llmctl, llmctl_echo;"
        "print(md.version('llmctl'), llmctl.__version__, hasattr(llmctl, 'CustomLLM'))"
    )
    out = subprocess.check_output([str(fresh_venv), "-c", code], text=True, timeout=60)
    assert out.split() == ["0.2.0", "0.2.0", "True"]


def test_installed_plugin_answers_through_llmctl(fresh_venv: Path) -> None:
    code = (
        "import llmctl, llmctl_echo;"
        "llmctl.custom_provider_map = ["
        "    {'provider': 'echo', 'custom_handler': llmctl_echo.handler}];"
        "r = llmctl.completion('echo/m', [{'role': 'user', 'content': 'ping'}]);"
        "print(r.choices[0].message.content)"
    )
    out = subprocess.check_output([str(fresh_venv), "-c", code], text=True, timeout=60)
    assert out.strip() == "ping"


def test_console_script_is_ours(fresh_venv: Path) -> None:
    script = fresh_venv.parent / "llmctl"
    out = subprocess.check_output([str(script), "--version"], text=True, timeout=60)
    assert out.strip() == "llmctl, version 0.2.0"
