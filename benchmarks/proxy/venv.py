"""The cached venv LiteLLM's proxy runs from, and the check that llmctl's can run here.

LiteLLM's proxy needs its ``[proxy]`` extra, which does not install from every package index
(``litellm-proxy==1.110.2`` is missing from some), so ``litellm-proxy-requirements.txt`` lists
the extra's requirements without it. The venv lives under
``benchmarks/.cache/proxy/litellm-<key>/`` (gitignored), ``<key>`` hashing that file and the
Python version: a rerun reuses it, a change to the file rebuilds it (older keys are deleted).
It never touches the interpreter running the benchmark, whose LiteLLM has no proxy extra.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from benchmarks.core.config import LITELLM_VERSION
from benchmarks.core.run import REPO_ROOT, MeasurementError
from benchmarks.plugins.venvs import PIP_TIMEOUT_S, READY, Venv
from benchmarks.proxy.config import HERE

CACHE_DIR: Final = REPO_ROOT / "benchmarks" / ".cache" / "proxy"
REQUIREMENTS: Final = HERE / "litellm-proxy-requirements.txt"
#: What ``llmctl serve`` and the ceiling import; uvloop only where it exists (CPython, POSIX).
SERVER_MODULES: Final = ("starlette", "uvicorn", "yaml", "httptools")
#: Variables that would make a venv's interpreter import from elsewhere.
SCRUBBED_ENV: Final = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def clean_env() -> dict[str, str]:
    """Return this process's environment without what would redirect a venv's imports."""
    return {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}


def _run(cmd: Sequence[str | Path], what: str, *, timeout: float = PIP_TIMEOUT_S) -> str:
    proc = subprocess.run(
        [str(c) for c in cmd],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=clean_env(),
    )
    if proc.returncode != 0:
        raise MeasurementError(f"{what} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc.stdout


def _key() -> str:
    digest = hashlib.sha256(sys.version.encode() + b"\0" + REQUIREMENTS.read_bytes())
    return digest.hexdigest()[:16]


def litellm_venv(*, rebuild: bool = False) -> Venv:
    """Return the venv holding LiteLLM 1.110.2's proxy, building it if needed (a few minutes)."""
    venv = Venv(CACHE_DIR / f"litellm-{_key()}")
    if venv.ready and not rebuild:
        return venv
    if CACHE_DIR.exists():
        for old in CACHE_DIR.glob("litellm-*"):
            shutil.rmtree(old, ignore_errors=True)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    where = venv.path.relative_to(REPO_ROOT)
    _log(f"litellm proxy venv: installing {REQUIREMENTS.name} into {where} (a few minutes)")
    _run([sys.executable, "-m", "venv", venv.path], f"creating venv {where}")
    _run(
        [venv.python, "-m", "pip", "install", "-q", "-r", REQUIREMENTS],
        f"installing {REQUIREMENTS.name} into {where}",
    )
    found = module_version(venv.python, "litellm")
    if found != LITELLM_VERSION:
        raise MeasurementError(f"{where} has litellm {found}, not {LITELLM_VERSION}")
    (venv.path / READY).write_text(f"litellm=={LITELLM_VERSION} with its proxy extra\n")
    return venv


def module_version(python: Path | str, distribution: str) -> str:
    """Return the version of ``distribution`` installed for ``python``, or ``"-"``."""
    code = (
        "import importlib.metadata as m, sys\n"
        "try: print(m.version(sys.argv[1]))\n"
        "except m.PackageNotFoundError: print('-')"
    )
    return _run([python, "-c", code, distribution], f"reading {distribution}'s version").strip()


def has_module(python: Path | str, module: str) -> bool:
    """Whether ``python`` can import ``module`` (found, not imported)."""
    code = "import importlib.util, sys; sys.exit(importlib.util.find_spec(sys.argv[1]) is None)"
    proc = subprocess.run([str(python), "-c", code, module], env=clean_env(), check=False)
    return proc.returncode == 0


def check_server_stack(python: Path | str) -> None:
    """Check that ``python`` can run ``llmctl serve`` and the ceiling.

    :raises MeasurementError: it lacks llmctl or llmctl's proxy extra.
    """
    missing = [m for m in ("llmctl", *SERVER_MODULES) if not has_module(python, m)]
    if missing:
        raise MeasurementError(
            f"{python} cannot run `llmctl serve` or the ceiling: {', '.join(missing)} missing; "
            "install llmctl with its proxy extra (`pip install -e '.[proxy]'`) and rerun"
        )
