"""Shared fixtures: every test leaves ``llmctl.custom_provider_map`` as it found it."""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import llmctl
from llmctl.hooks import call_hooks
from llmctl.registry import registry

Register = Callable[..., None]


@pytest.fixture(autouse=True)
def _restore_provider_map() -> Iterator[None]:
    saved = llmctl.custom_provider_map
    llmctl.custom_provider_map = []
    yield
    llmctl.custom_provider_map = saved


@pytest.fixture
def register() -> Register:
    """Register handlers by name: ``register(acme=AcmeLLM())``."""

    def register(**handlers: Any) -> None:
        llmctl.custom_provider_map = [
            {"provider": name, "custom_handler": handler} for name, handler in handlers.items()
        ]

    return register


class SitePackages:
    """A directory on ``sys.path`` holding distributions made of a dist-info and modules.

    importlib-metadata reads it exactly as it reads an installed site-packages, so entry
    points declared here are discovered as real plugins (without a pip install).
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def add(
        self,
        distribution: str,
        entry_points: dict[str, dict[str, str]],
        modules: dict[str, str] | None = None,
        version: str = "1.0",
    ) -> None:
        """Install ``distribution`` with ``entry_points`` ({group: {name: value}})."""
        info = self.root / f"{distribution.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n"
        )
        (info / "entry_points.txt").write_text(
            "".join(
                f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in eps.items())
                for group, eps in entry_points.items()
            )
        )
        for name, source in (modules or {}).items():
            (self.root / f"{name}.py").write_text(textwrap.dedent(source))
        importlib.invalidate_caches()
        registry.refresh()
        call_hooks.refresh()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SitePackages]:
    """Distributions to install for one test; gone (modules unloaded) afterwards."""
    root = tmp_path / "site-packages"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    for variable in ("LLMCTL_LOAD_PLUGINS", "LLMCTL_DISABLE_PLUGINS"):
        monkeypatch.delenv(variable, raising=False)
    yield SitePackages(root)
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", "") or "").startswith(str(root)):
            del sys.modules[name]
    monkeypatch.undo()
    importlib.invalidate_caches()
    registry.refresh()
    call_hooks.refresh()


MESSAGES = [{"role": "user", "content": "Hello"}]
