"""Plugins found through entry points: listed from metadata, imported only when used.

A provider plugin declares an entry point in the group ``litellm.providers``; its name is the
provider name and its value a ``CustomLLM`` instance, a ``CustomLLM`` subclass, a duck-typed
handler, or a pluggy plugin (a module or object of ``@llmctl.hookimpl`` functions). Call-hook
plugins use the group ``llmctl.hooks``.

Two environment variables choose which distributions take part, compared by their normalised
names (``LLMCTL_Example`` is ``llmctl-example``): ``LLMCTL_LOAD_PLUGINS=a,b`` loads only those
and ``LLMCTL_DISABLE_PLUGINS=x,y`` skips those.
"""

from __future__ import annotations

import inspect
import os
import re
import types
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from llmctl.exceptions import PluginLoadError
from llmctl.handler import OPERATIONS, CustomLLM, implemented_operations

if TYPE_CHECKING:
    from importlib_metadata import EntryPoint

__all__ = [
    "HOOK_GROUP",
    "PROVIDER_GROUP",
    "HookHandler",
    "PluginEntry",
    "as_handler",
    "choice_variable",
    "entry_points",
    "normalize",
    "skip_reason",
]

#: The entry point group of provider plugins (the name LiteLLM users would look for).
PROVIDER_GROUP: Final = "litellm.providers"
#: The entry point group of call-hook plugins (pre_call, post_call, on_error).
HOOK_GROUP: Final = "llmctl.hooks"

_PROVIDER_HOOKS: Final = (*OPERATIONS, "get_supported_openai_params", "health_check")


def normalize(distribution: str) -> str:
    """Return a distribution name in its PEP 503 normal form (``My_Plugin`` is ``my-plugin``)."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def choice_variable(provider: str) -> str:
    """Return the environment variable that picks the distribution serving ``provider``."""
    return "LLMCTL_PROVIDER_" + re.sub(r"[^A-Z0-9]", "_", provider.upper())


@dataclass(frozen=True)
class PluginEntry:
    """One entry point of an installed distribution, read from its metadata only."""

    #: The entry point's name: the provider name for ``litellm.providers``.
    name: str
    #: What it points at, ``module:attribute`` or ``module``.
    value: str
    group: str
    distribution: str | None
    version: str | None
    entry_point: EntryPoint

    def describe(self) -> str:
        """Name the entry point and its distribution, for messages."""
        owner = f"{self.distribution} {self.version}" if self.distribution else "an unknown package"
        return f"entry point '{self.name} = {self.value}' (group {self.group}) of {owner}"

    def load(self) -> object:
        """Import the module and return the object the entry point names.

        :raises PluginLoadError: the import (or the attribute lookup) failed; the message
            names the distribution, the entry point and the original error.
        """
        try:
            return self.entry_point.load()
        except (Exception, SystemExit) as exc:
            raise self.error(f"raised {type(exc).__name__} on import: {exc}") from exc

    def error(self, problem: str) -> PluginLoadError:
        """Return the :class:`PluginLoadError` for ``problem`` with this entry point."""
        fix = (
            f"fix or uninstall it (pip uninstall {self.distribution}), or skip it with "
            f"LLMCTL_DISABLE_PLUGINS={self.distribution}"
            if self.distribution
            else "fix or uninstall the package that declares it"
        )
        problem = " ".join(problem.split())  # one line, for listings and logs
        return PluginLoadError(
            f"plugin {self.name!r} failed to load: {self.describe()} {problem}; {fix}",
            llm_provider=self.name if self.group == PROVIDER_GROUP else None,
        )


def entry_points(group: str) -> list[PluginEntry]:
    """Return every entry point of ``group`` in the installed distributions, sorted by name.

    Reads metadata only; nothing is imported.
    """
    import importlib_metadata

    found = []
    # Metadata is parsed on every access (dist.name, dist.version): once per distribution.
    owners: dict[int, tuple[str, str]] = {}
    for ep in importlib_metadata.entry_points(group=group):
        if id(ep.dist) not in owners:
            metadata = ep.dist.metadata
            owners[id(ep.dist)] = (metadata["Name"], metadata["Version"])
        found.append(PluginEntry(ep.name, ep.value, group, *owners[id(ep.dist)], entry_point=ep))
    found.sort(key=lambda e: (e.name, normalize(e.distribution or "")))
    return found


def skip_reason(entry: PluginEntry) -> str | None:
    """Return why the environment switches skip ``entry``'s distribution, or None."""
    dist = normalize(entry.distribution or "")
    only = _names_in("LLMCTL_LOAD_PLUGINS")
    if only is not None and dist not in only:
        return f"not listed in LLMCTL_LOAD_PLUGINS={os.environ['LLMCTL_LOAD_PLUGINS']}"
    disabled = _names_in("LLMCTL_DISABLE_PLUGINS")
    if disabled and dist in disabled:
        return f"disabled by LLMCTL_DISABLE_PLUGINS={os.environ['LLMCTL_DISABLE_PLUGINS']}"
    return None


def _names_in(variable: str) -> frozenset[str] | None:
    value = os.environ.get(variable)
    if value is None:
        return None
    return frozenset(normalize(name.strip()) for name in value.split(",") if name.strip())


def as_handler(obj: object, entry: PluginEntry) -> object:
    """Return the handler that an entry point's object provides.

    :raises PluginLoadError: ``obj`` is of the wrong kind, a ``CustomLLM`` subclass that
        cannot be instantiated without arguments, or a pluggy plugin whose hooks do not
        match :class:`llmctl.hookspecs.ProviderSpecs`.
    """
    if isinstance(obj, type):
        cls = obj
        if not issubclass(cls, CustomLLM):
            raise entry.error(f"is the class {cls.__name__}, which does not subclass CustomLLM")
        try:
            obj = cls()
        except Exception as exc:
            raise entry.error(
                f"names the class {cls.__name__}, which cannot be instantiated without "
                f"arguments ({type(exc).__name__}: {exc}); point the entry point at an instance"
            ) from exc
    if _has_hookimpls(obj):
        return HookHandler(obj, entry)
    if not isinstance(obj, types.ModuleType) and implemented_operations(obj):
        return obj
    raise entry.error(
        f"names {obj!r:.60}, which is no provider; point it at a CustomLLM instance or "
        "subclass, or at a module of @llmctl.hookimpl functions such as completion"
    )


def _has_hookimpls(obj: object) -> bool:
    # Every marked attribute, not only the known hook names: pluggy then reports a misspelt
    # hook (`completon`) instead of the plugin being taken for no provider at all.
    # Looked up statically, as pluggy does: a property of a handler must not run here.
    return any(
        getattr(inspect.getattr_static(obj, name, None), "llmctl_impl", None) for name in dir(obj)
    )


class HookHandler:
    """A pluggy plugin serving a provider: its ``@hookimpl`` functions, called through pluggy.

    Each implemented hook becomes an attribute of the handler's name, so the dispatcher calls
    it as it calls a ``CustomLLM`` method. pluggy passes each function only the arguments it
    names, and checked them against :class:`~llmctl.hookspecs.ProviderSpecs` on registration.
    """

    def __init__(self, plugin: object, entry: PluginEntry) -> None:
        import pluggy

        from llmctl.hookspecs import PROJECT, ProviderSpecs

        manager = pluggy.PluginManager(PROJECT)
        manager.add_hookspecs(ProviderSpecs)
        try:
            manager.register(plugin, name=f"{entry.distribution}:{entry.name}")
            manager.check_pending()
        except pluggy.PluginValidationError as exc:
            raise entry.error(
                f"does not match llmctl's provider hooks: {exc}".replace("\n", " ")
            ) from exc
        self.plugin = plugin
        for name in _PROVIDER_HOOKS:
            caller = getattr(manager.hook, name)
            if caller.get_hookimpls():
                setattr(self, name, caller)

    def __repr__(self) -> str:
        return f"HookHandler({self.plugin!r:.60})"
