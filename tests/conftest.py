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
import llmctl.hooks
import llmctl.registry
from llmctl import plugins
from llmctl.hooks import call_hooks
from llmctl.plugins import PluginEntry
from llmctl.registry import registry
from serving import ProxyProcess

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


@pytest.fixture(autouse=True)
def _only_test_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """Hide the plugins installed in the test environment (llmctl-example, say).

    Discovery stays real (importlib-metadata reads every dist-info on sys.path); only
    distributions a test installs with the ``site`` fixture are kept, so no test depends on
    what else the environment holds.
    """
    visible: set[str] = set()

    def entry_points(group: str) -> list[PluginEntry]:
        return [e for e in plugins.entry_points(group) if e.distribution in visible]

    monkeypatch.setattr(llmctl.registry, "entry_points", entry_points)
    monkeypatch.setattr(llmctl.hooks, "entry_points", entry_points)
    registry.refresh()
    call_hooks.refresh()
    yield visible
    monkeypatch.undo()
    registry.refresh()
    call_hooks.refresh()


class SitePackages:
    """A directory on ``sys.path`` holding distributions made of a dist-info and modules.

    importlib-metadata reads it exactly as it reads an installed site-packages, so entry
    points declared here are discovered as real plugins (without a pip install).
    """

    def __init__(self, root: Path, visible: set[str]) -> None:
        self.root = root
        self._visible = visible

    def add(
        self,
        distribution: str,
        entry_points: dict[str, dict[str, str]],
        modules: dict[str, str] | None = None,
        version: str = "1.0",
    ) -> None:
        """Install ``distribution`` with ``entry_points`` ({group: {name: value}})."""
        self._visible.add(distribution)
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
def site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _only_test_plugins: set[str]
) -> Iterator[SitePackages]:
    """Distributions to install for one test; gone (modules unloaded) afterwards."""
    root = tmp_path / "site-packages"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    for variable in ("LLMCTL_LOAD_PLUGINS", "LLMCTL_DISABLE_PLUGINS"):
        monkeypatch.delenv(variable, raising=False)
    yield SitePackages(root, _only_test_plugins)
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", "") or "").startswith(str(root)):
            del sys.modules[name]
    monkeypatch.undo()
    importlib.invalidate_caches()
    registry.refresh()
    call_hooks.refresh()


MESSAGES = [{"role": "user", "content": "Hello"}]


# -- the proxy: real `llmctl serve` processes on 127.0.0.1 --------------------------------------

PROXY_DATA = Path(__file__).parent / "data" / "proxy"
EXAMPLES = Path(__file__).parent.parent / "examples"
#: The test server's master key, and the key its config hands the echo handler.
MASTER_KEY = "sk-test-" + "k3y" * 8
BACKEND_KEY = "backend-secret-" + "s" * 12


@pytest.fixture(scope="session")
def proxy() -> Iterator[ProxyProcess]:
    """``llmctl serve`` on tests/data/proxy/config.yaml: a master key, a model per behaviour."""
    server = ProxyProcess(
        ["--config", str(PROXY_DATA / "config.yaml")],
        env={"LLMCTL_TEST_MASTER_KEY": MASTER_KEY, "LLMCTL_TEST_BACKEND_KEY": BACKEND_KEY},
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def guide_proxy() -> Iterator[ProxyProcess]:
    """``llmctl serve --config examples/config.yaml``: the feature guide's server, no key."""
    server = ProxyProcess(["--config", str(EXAMPLES / "config.yaml")]).start()
    yield server
    server.stop()
