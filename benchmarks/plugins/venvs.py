"""The cached venvs the plugin benchmark runs in.

Two venvs hold llmctl installed (not editable) from this repository and then, in one more pip
call, the first ``n`` generated provider plugins (``n`` = 1 and 50). They live under
``benchmarks/.cache/plugins/venvs-<key>/providers-<n>``, where ``<key>`` hashes the llmctl
sources, the packaging files and this generator, so a rerun with nothing changed reuses them
and any change to core rebuilds them (older keys are deleted).

``litellm --help`` runs from the interpreter running the benchmark when it has exactly
LiteLLM 1.110.2 and its ``litellm`` script (the ``nox -s bench`` venv does); otherwise from a
cached venv built from ``benchmarks/requirements.txt``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Final

from benchmarks.core.config import LITELLM_VERSION
from benchmarks.core.run import REPO_ROOT, MeasurementError
from benchmarks.plugins import wheels
from benchmarks.plugins.config import GROUP

CACHE_DIR: Final = REPO_ROOT / "benchmarks" / ".cache" / "plugins"
REQUIREMENTS: Final = REPO_ROOT / "benchmarks" / "requirements.txt"
#: Written last into a finished venv; a venv without it is rebuilt.
READY: Final = ".bench-ready"
#: Files whose change means the plugin venvs must be rebuilt (besides ``core/llmctl``).
KEY_FILES: Final = (
    "pyproject.toml",
    "README.md",
    "benchmarks/plugins/wheels.py",
    "benchmarks/plugins/venvs.py",
)
PIP_TIMEOUT_S: Final = 900


@dataclass(frozen=True)
class Venv:
    """A virtual environment, and where its interpreter and scripts are."""

    path: Path

    @property
    def bin_dir(self) -> Path:
        """The directory holding the interpreter and console scripts."""
        return self.path / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> Path:
        """The venv's interpreter."""
        return self.bin_dir / "python"

    def script(self, name: str) -> Path:
        """Return a console script installed into the venv (``llmctl``, ``litellm``)."""
        return self.bin_dir / name

    @property
    def ready(self) -> bool:
        """Whether the venv was built to the end."""
        return (self.path / READY).exists()


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _hash_files(paths: Iterable[Path], extra: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for item in extra:
        digest.update(item.encode() + b"\0")
    for path in sorted(paths):
        digest.update(path.relative_to(REPO_ROOT).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def source_key(counts: Sequence[int]) -> str:
    """Hash of everything that goes into the plugin venvs."""
    sources = [
        p
        for p in (REPO_ROOT / "core" / "llmctl").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    ]
    sources += [REPO_ROOT / name for name in KEY_FILES if (REPO_ROOT / name).exists()]
    return _hash_files(sources, [sys.version, GROUP, *map(str, counts)])


def _run(cmd: Sequence[str | Path], what: str) -> None:
    proc = subprocess.run(
        [str(c) for c in cmd],
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT_S,
        check=False,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")},
    )
    if proc.returncode != 0:
        raise MeasurementError(f"{what} failed (exit {proc.returncode}):\n{proc.stderr}")


def _create(path: Path) -> Venv:
    if path.exists():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _run([sys.executable, "-m", "venv", path], f"creating venv {path}")
    return Venv(path)


def _prune(keep: Path, prefix: str) -> None:
    """Delete the cache directories named ``<prefix>*`` other than ``keep``."""
    if not CACHE_DIR.exists():
        return
    for old in CACHE_DIR.glob(f"{prefix}*"):
        if old != keep and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)


def _build_llmctl_wheel(venv: Venv, out_dir: Path) -> Path:
    """Build llmctl's wheel from this repository with ``venv``'s pip; return its path."""
    cmd: list[str | Path] = [venv.python, "-m", "pip", "wheel", "-q", "--no-deps"]
    cmd += ["-w", out_dir, REPO_ROOT]
    _run(cmd, "building the llmctl wheel from this repository")
    return next(out_dir.glob("llmctl-*.whl"))


def plugin_venvs(counts: Sequence[int], *, rebuild: bool = False) -> dict[int, Venv]:
    """Return a venv per plugin count, building (or rebuilding) the ones that are missing.

    Each gets llmctl from this repository first (one wheel, built once), then the plugins in a
    single ``pip install`` of the generated wheels.
    """
    root = CACHE_DIR / f"venvs-{source_key(counts)}"
    venvs = {n: Venv(root / f"providers-{n}") for n in counts}
    todo = [n for n, venv in venvs.items() if rebuild or not venv.ready]
    if not todo:
        _log(f"plugin venvs: reusing {root.relative_to(REPO_ROOT)}")
        return venvs
    _prune(root, "venvs-")
    with tempfile.TemporaryDirectory(prefix="llmctl-bench-wheels-") as tmp:
        plugin_wheels = wheels.build_wheels(max(counts), Path(tmp) / "plugins")
        llmctl_wheel: Path | None = None
        for n in todo:
            _log(f"plugin venvs: building providers-{n} in {root.relative_to(REPO_ROOT)}")
            venv = _create(venvs[n].path)
            if llmctl_wheel is None:  # built once, the same wheel for every venv
                llmctl_wheel = _build_llmctl_wheel(venv, Path(tmp) / "llmctl")
            _run(
                [venv.python, "-m", "pip", "install", "-q", llmctl_wheel],
                f"installing llmctl into providers-{n}",
            )
            _run(
                [venv.python, "-m", "pip", "install", "-q", "--no-index", *plugin_wheels[:n]],
                f"installing {n} plugin wheels into providers-{n}",
            )
            (venv.path / READY).write_text(f"{n} provider plugins\n")
    return venvs


def _litellm_here() -> Path | None:
    """Return the running interpreter's ``litellm`` script, if it is the pinned release."""
    try:
        if version("litellm") != LITELLM_VERSION:
            return None
    except PackageNotFoundError:
        return None
    script = Path(sys.executable).parent / "litellm"
    return script if script.exists() else None


def litellm_script(*, rebuild: bool = False) -> Path:
    """Return the ``litellm`` console script of LiteLLM 1.110.2, installing it if needed."""
    here = _litellm_here()
    if here is not None and not rebuild:
        return here
    key = _hash_files([REQUIREMENTS], [sys.version])
    venv = Venv(CACHE_DIR / f"litellm-{key}")
    if venv.ready and not rebuild:
        return venv.script("litellm")
    _prune(venv.path, "litellm-")
    _log(f"litellm venv: installing {REQUIREMENTS.name} into {venv.path.relative_to(REPO_ROOT)}")
    _create(venv.path)
    _run(
        [venv.python, "-m", "pip", "install", "-q", "-r", REQUIREMENTS],
        "installing benchmarks/requirements.txt",
    )
    (venv.path / READY).write_text(f"litellm=={LITELLM_VERSION}\n")
    return venv.script("litellm")
