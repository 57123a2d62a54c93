"""The first-party plugins in ``plugins/`` install beside our llmctl and are discovered (#6).

One fresh venv: llmctl from this repository first, then every ``plugins/llmctl-*`` as users
install them (``pip install ./plugins/llmctl-ollama``: a built wheel, dependencies resolved).
Each plugin's own suite tests its calls against a fake backend; this module checks what the
user sees after the install: the providers listed with their operations, and health checks
that reach (or fail to reach) the backend.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import venv
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = sorted(path for path in (ROOT / "plugins").iterdir() if path.is_dir())
CHAT = {"completion", "acompletion", "streaming", "astreaming"}

#: Provider name -> operations it must declare beyond chat.
EXPECTED = {
    "example": {"embedding", "image_generation"},
    "http": set(),
    "hosted_vllm": {"embedding", "image_generation"},
    "ollama": {"embedding"},
    "ollama_chat": {"embedding"},
    "openai_compatible": {"embedding", "image_generation"},
    "torchserve": set(),
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("first-party")
    venv.create(path, with_pip=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMCTL_", "PYTHON"))}
    pip = [str(path / "bin" / "python"), "-m", "pip", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", str(ROOT)], check=True, env=env, timeout=600)
    plugins = [str(plugin) for plugin in FIRST_PARTY]
    subprocess.run([*pip, "install", *plugins], check=True, env=env, timeout=600)
    return path / "bin"


def run(bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.defpath}", "PYTHONNOUSERSITE": "1"}
    return subprocess.run(
        [str(bin_dir / "llmctl"), *args], capture_output=True, text=True, env=env, timeout=120
    )


def rows(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in json.loads(result.stdout)}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_our_llmctl_stays_installed(bin_dir: Path) -> None:
    result = subprocess.run(
        [str(bin_dir / "python"), "-c", "import llmctl; print(llmctl.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    major, minor = (int(part) for part in result.stdout.split(".")[:2])
    assert (major, minor) >= (0, 2)


def test_every_first_party_provider_is_listed_from_its_distribution(bin_dir: Path) -> None:
    result = run(bin_dir, "providers", "list", "--json")
    assert result.returncode == 0, result.stderr
    listed = rows(result)
    assert set(EXPECTED) <= set(listed)
    for name in EXPECTED:
        assert listed[name]["source"] == "entry_point", listed[name]
        assert listed[name]["distribution"].startswith("llmctl-"), listed[name]


def test_each_provider_loads_and_declares_its_operations(bin_dir: Path) -> None:
    result = run(bin_dir, "providers", "list", "--json", "--check")
    assert result.returncode == 0, result.stderr
    listed = rows(result)
    for name, extra in EXPECTED.items():
        row = listed[name]
        assert row["status"] == "ok", row
        assert CHAT | extra <= set(row["operations"]), (name, row["operations"])


@pytest.mark.parametrize("name", ["hosted_vllm", "ollama", "openai_compatible", "torchserve"])
def test_health_check_reaches_the_backend_it_is_given(bin_dir: Path, name: str) -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    result = run(
        bin_dir, "providers", "check", name, "--json", "--api-base", base, "--timeout", "5"
    )
    assert result.returncode == 1, result.stdout + result.stderr
    (report,) = json.loads(result.stdout)
    assert report["status"] == "failed"
    assert "APIConnectionError" in report["error"], report
    assert base in report["error"], report
