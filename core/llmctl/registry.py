"""Finds providers by name: code first, then the config file, then installed plugins.

A call reaches exactly one provider through a dict lookup. ``llmctl.custom_provider_map`` is
read on every call but rebuilt only when it changed (reassigned, appended to, an entry
replaced), so registering a handler takes effect on the next call with no rescan. Entry points
(group ``litellm.providers``) are read once, from metadata, the first time a name is not found
in code or config; a plugin is imported the first time its provider is called.
"""

from __future__ import annotations

import difflib
import inspect
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import llmctl
from llmctl.exceptions import (
    LLMCtlError,
    PluginLoadError,
    ProviderNotFoundError,
    UnsupportedOperationError,
    UnsupportedParamsError,
)
from llmctl.handler import OPERATIONS, implemented_operations, implements
from llmctl.plugins import (
    PROVIDER_GROUP,
    PluginEntry,
    as_handler,
    choice_variable,
    entry_points,
    normalize,
    skip_reason,
)

if TYPE_CHECKING:
    from llmctl.request import CallRequest

__all__ = ["Provider", "ProviderInfo", "Registry", "registry"]

#: For each operation a caller asks for, the handler methods that can serve it, best first.
ROUTES: Final[dict[str, tuple[str, ...]]] = {
    "completion": ("completion", "acompletion", "streaming", "astreaming"),
    "acompletion": ("acompletion", "completion", "astreaming", "streaming"),
    "streaming": ("streaming", "astreaming", "completion", "acompletion"),
    "astreaming": ("astreaming", "streaming", "acompletion", "completion"),
    "image_generation": ("image_generation", "aimage_generation"),
    "aimage_generation": ("aimage_generation", "image_generation"),
    "embedding": ("embedding", "aembedding"),
    "aembedding": ("aembedding", "embedding"),
}

_DESCRIPTIONS: Final = {
    "completion": "chat completion",
    "streaming": "chat completion",
    "image_generation": "image generation",
    "embedding": "embeddings",
}


class Provider:
    """A handler registered under a name, and what it can do.

    :param name: the provider name, the part of a model string before ``/``.
    :param handler: the ``CustomLLM`` (or duck-typed) object that serves the calls.
    :param source: where it was registered: ``code``, ``config`` or ``entry_point``.
    :param plugin: the entry point it came from, for a plugin.
    """

    __slots__ = (
        "_methods",
        "_params",
        "_routes",
        "handler",
        "name",
        "operations",
        "plugin",
        "source",
    )

    def __init__(
        self, name: str, handler: object, source: str, plugin: PluginEntry | None = None
    ) -> None:
        self.name = name
        self.handler = handler
        self.source = source
        self.plugin = plugin
        #: The operations the handler really implements (the rest are bridged).
        self.operations = implemented_operations(handler)
        self._methods: dict[str, Callable[..., Any]] = {}
        self._routes: dict[str, str] = {}
        self._params: dict[str, frozenset[str] | None] = {}

    def route(self, operation: str) -> str:
        """Return the handler method that serves ``operation`` (itself, or a bridge).

        :raises UnsupportedOperationError: no implemented method can serve it.
        """
        try:
            return self._routes[operation]
        except KeyError:
            pass
        for candidate in ROUTES[operation]:
            if candidate in self.operations:
                self._routes[operation] = candidate
                return candidate
        what = _DESCRIPTIONS[operation.removeprefix("a")]
        implemented = ", ".join(sorted(self.operations)) or "nothing"
        raise UnsupportedOperationError(
            f"provider {self.name!r} does not support {what} (its handler implements: "
            f"{implemented}); add {' or '.join(ROUTES[operation])} to "
            f"{type(self.handler).__name__}",
            llm_provider=self.name,
        )

    def method(self, operation: str) -> Callable[..., Any]:
        """Return the handler's method, taking only the keyword arguments it accepts."""
        try:
            return self._methods[operation]
        except KeyError:
            method = self._methods[operation] = _accepting(getattr(self.handler, operation))
            return method

    def supported_params(self, model: str) -> frozenset[str] | None:
        """Return the OpenAI parameters the provider accepts for ``model`` (None: all)."""
        try:
            return self._params[model]
        except KeyError:
            pass
        declared = None
        if implements(self.handler, "get_supported_openai_params"):
            declared = self.handler.get_supported_openai_params(model=model)  # type: ignore[attr-defined]
        params = self._params[model] = None if declared is None else frozenset(declared)
        return params

    def check_params(self, request: CallRequest) -> None:
        """Refuse the OpenAI parameters the provider does not accept, or drop them.

        They are dropped when the call says ``drop_params=True`` or ``llmctl.drop_params``
        is set.

        :raises UnsupportedParamsError: naming the first such parameter and the fix.
        """
        supported = self.supported_params(request.provider_model)
        if supported is None:
            return
        from llmctl.request import OPENAI_PARAMS

        known = OPENAI_PARAMS[request.operation]
        params = request.optional_params
        refused = [k for k in params if k in known and k not in supported]
        if not refused:
            return
        drop = request.arguments.get("drop_params")
        if drop if drop is not None else llmctl.drop_params:
            for key in refused:
                del params[key]
            return
        accepted = ", ".join(sorted(supported)) or "none"
        raise UnsupportedParamsError(
            f"provider {self.name!r} does not support {refused[0]!r} for model "
            f"{request.provider_model!r} (it accepts: {accepted}); remove it, or pass "
            "drop_params=True to drop the parameters a provider does not support",
            llm_provider=self.name,
            model=request.model,
            param=refused[0],
        )


def _accepting(method: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``method`` so that it is passed only the keyword arguments it declares.

    LiteLLM passes every argument and so breaks handlers that declare fewer (the feature
    guide's own ``aimage_generation`` has no ``api_key``); one with ``**kwargs`` gets all.
    """
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):  # a builtin or C callable: pass everything
        return method
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return method
    accepted = frozenset(
        p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    )

    def call(**kwargs: Any) -> Any:
        return method(**{k: v for k, v in kwargs.items() if k in accepted})

    return call


@dataclass
class ProviderInfo:
    """One row of ``llmctl providers list``: a provider and where it comes from."""

    name: str
    #: ``code``, ``config`` or ``entry_point``.
    source: str
    distribution: str | None = None
    version: str | None = None
    #: The operations it implements; empty until a plugin is loaded.
    operations: list[str] = field(default_factory=list)
    #: ``ok``, ``unloaded``, ``error``, ``conflict``, ``disabled`` or ``shadowed``.
    status: str = "ok"
    #: Why the status is not ``ok`` or ``unloaded``, in one line.
    error: str | None = None
    #: The entry point (``group: name = value``), for a plugin.
    entry_point: str | None = None
    #: The exception behind ``error``, when a load failed.
    exception: BaseException | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the row with the keys ``llmctl providers list --json`` documents."""
        return {
            "name": self.name,
            "source": self.source,
            "distribution": self.distribution,
            "version": self.version,
            "operations": self.operations,
            "status": self.status,
            "error": self.error,
        }


class _PluginSlot:
    """The entry points claiming one provider name, and the provider once loaded."""

    __slots__ = ("_loading", "_lock", "candidates", "chosen", "name", "problem", "provider")

    def __init__(self, name: str, candidates: list[PluginEntry]) -> None:
        self.name = name
        self.candidates = candidates
        self.provider: Provider | None = None
        self.problem: PluginLoadError | None = None
        # Per slot, so a plugin may use another plugin while it loads; re-entrant, so one
        # that uses itself while loading gets an error instead of a deadlock.
        self._lock = threading.RLock()
        self._loading = False
        self.chosen: PluginEntry | None = candidates[0] if len(candidates) == 1 else None
        variable = choice_variable(name)
        wanted = os.environ.get(variable)
        if wanted:
            matches = [
                e for e in candidates if normalize(e.distribution or "") == normalize(wanted)
            ]
            self.chosen = matches[0] if matches else None
            if not matches:
                self.problem = PluginLoadError(
                    f"{variable}={wanted} names no distribution that provides {name!r}; "
                    f"set it to one of: {self._owners()}",
                    llm_provider=name,
                )
        elif self.chosen is None:
            self.problem = PluginLoadError(
                f"provider {name!r} is claimed by {len(candidates)} installed distributions "
                f"({self._owners()}); choose one with {variable}=<distribution> or uninstall "
                "the others",
                llm_provider=name,
            )

    def _owners(self) -> str:
        return ", ".join(
            f"{e.distribution} ({e.name} = {e.value})" if e.distribution else e.value
            for e in self.candidates
        )

    def load(self) -> Provider:
        """Import the chosen plugin once and return its provider.

        :raises PluginLoadError: the name is ambiguous or the plugin failed to load; the
            same error again on every later call.
        """
        if self.provider is not None:
            return self.provider
        if self.problem is not None:
            raise self.problem
        entry = self.chosen
        assert entry is not None
        with self._lock:
            if self._loading:
                raise entry.error("calls its own provider while it loads")
            if self.provider is None and self.problem is None:
                self._loading = True
                try:
                    handler = as_handler(entry.load(), entry)
                    self.provider = Provider(self.name, handler, "entry_point", entry)
                except PluginLoadError as error:
                    self.problem = error
                except Exception as exc:  # a handler whose attributes raise, say
                    self.problem = entry.error(f"failed: {type(exc).__name__}: {exc}")
                    self.problem.__cause__ = exc
                finally:
                    self._loading = False
        if self.provider is not None:
            return self.provider
        assert self.problem is not None  # set whenever no provider could be made
        raise self.problem


class Registry:
    """The providers a call can reach, by name: code, then config, then entry points."""

    def __init__(self) -> None:
        self._code_entries: tuple[Any, ...] = ()
        self._code: dict[str, Provider] = {}
        self._config: dict[str, Provider] = {}
        self._plugins: dict[str, _PluginSlot] | None = None
        #: Every entry point, with why the environment switches skip it (None: they do not).
        self._entries: list[tuple[PluginEntry, str | None]] = []
        self._scan_lock = threading.Lock()

    def provider(self, name: str, model: str | None = None) -> Provider:
        """Return the provider called ``name``, importing its plugin on first use.

        :param model: the model string of the call, for the error message.
        :raises ProviderNotFoundError: no provider has that name; the message lists the
            registered ones and the closest name.
        :raises PluginLoadError: the plugin serving ``name`` failed to load, or two
            installed distributions claim it.
        """
        provider = self._code_providers().get(name) or self._config.get(name)
        if provider is not None:
            return provider
        slot = self._plugin_slots().get(name)
        if slot is None:
            raise self._not_found(name, model)
        return slot.load()

    def names(self) -> list[str]:
        """Return the names of every provider a call can reach, sorted."""
        return sorted({*self._code_providers(), *self._config, *self._plugin_slots()})

    def configure(self, custom_provider_map: Sequence[Mapping[str, Any]]) -> None:
        """Register the config file's ``custom_provider_map`` (below code, above plugins).

        :param custom_provider_map: ``{"provider": name, "custom_handler": handler}`` dicts
            with the handlers already resolved; replaces the previous config's.
        :raises TypeError, ValueError: an entry is malformed; the message names it.
        """
        self._config = _build_providers(
            custom_provider_map, {}, where="config custom_provider_map", source="config"
        )

    def refresh(self) -> None:
        """Read the installed entry points again (after a ``pip install`` in this process)."""
        self._plugins = None

    def describe(self, *, load: bool = False, name: str | None = None) -> list[ProviderInfo]:
        """Return a row per provider and per entry point, sorted by name then precedence.

        :param load: import the plugins listed to report their operations or load errors;
            otherwise plugins not yet called show as ``unloaded``.
        :param name: list only the rows of this provider name.
        """
        code = self._code_providers()
        rows = [_info(p) for p in code.values()]
        for provider in self._config.values():
            row = _info(provider)
            if provider.name in code:
                row.status = "shadowed"
                row.error = f"overridden by the code registration of {provider.name!r}"
            rows.append(row)
        claimed = {**{n: "config" for n in self._config}, **{n: "code" for n in code}}
        slots = self._plugin_slots()
        for entry, skipped in self._entries:
            if name is None or entry.name == name:  # never import a plugin not asked about
                rows.append(_entry_info(entry, skipped, slots.get(entry.name), claimed, load=load))
        order = {"code": 0, "config": 1, "entry_point": 2}
        rows = [row for row in rows if name is None or row.name == name]
        return sorted(rows, key=lambda r: (r.name, order[r.source], r.distribution or ""))

    def _plugin_slots(self) -> dict[str, _PluginSlot]:
        slots = self._plugins
        if slots is None:
            with self._scan_lock:  # one scan, so a plugin is instantiated once
                if self._plugins is None:
                    # The switches are read here, once per scan, for calls and listings alike.
                    entries = [(e, skip_reason(e)) for e in entry_points(PROVIDER_GROUP)]
                    by_name: dict[str, list[PluginEntry]] = {}
                    for entry, skipped in entries:
                        if skipped is None:
                            by_name.setdefault(entry.name, []).append(entry)
                    self._entries = entries
                    self._plugins = {n: _PluginSlot(n, c) for n, c in by_name.items()}
                slots = self._plugins
        return slots

    def _code_providers(self) -> dict[str, Provider]:
        entries = llmctl.custom_provider_map
        # Compared by identity, so an entry edited in place or a handler replaced by an
        # equal one is seen too; the handlers stay referenced, so their ids stay theirs.
        snapshot = (
            tuple(
                (id(e), e.get("provider"), id(e.get("custom_handler")))
                if isinstance(e, Mapping)
                else (id(e),)
                for e in entries
            )
            if isinstance(entries, (list, tuple))
            else entries
        )
        if snapshot != self._code_entries:
            self._code = _build_providers(
                entries, self._code, where="llmctl.custom_provider_map", source="code"
            )
            self._code_entries = snapshot
        return self._code

    def _not_found(self, name: str, model: str | None) -> ProviderNotFoundError:
        names = self.names()
        subject = f" for model {model!r}" if model else ""
        skipped = [(e, why) for e, why in self._entries if e.name == name and why]
        if skipped:
            entry, why = skipped[0]
            fix = f"its plugin {entry.distribution} is installed but {why}."
        else:
            close = difflib.get_close_matches(name, names, n=1)
            # Suggest a package only for a name that is no typo of a registered one: never
            # point users at a distribution named after a misspelling.
            fix = (
                f"did you mean {close[0]!r}?"
                if close
                else f"install its provider plugin (llmctl-{name}) or add it to "
                "custom_provider_map."
            )
        registered = ", ".join(names) or "none"
        return ProviderNotFoundError(
            f"no provider {name!r}{subject}; {fix} Registered: {registered}.",
            llm_provider=name,
            model=model,
            param="model",
        )


def _info(provider: Provider) -> ProviderInfo:
    return ProviderInfo(
        provider.name,
        provider.source,
        operations=[op for op in OPERATIONS if op in provider.operations],
    )


def _entry_info(
    entry: PluginEntry,
    skipped: str | None,
    slot: _PluginSlot | None,
    claimed: dict[str, str],
    *,
    load: bool,
) -> ProviderInfo:
    info = ProviderInfo(
        entry.name,
        "entry_point",
        entry.distribution,
        entry.version,
        status="unloaded",
        entry_point=f"{entry.group}: {entry.name} = {entry.value}",
    )
    if skipped is not None:
        info.status, info.error = "disabled", skipped
    elif entry.name in claimed:
        info.status = "shadowed"
        info.error = f"overridden by the {claimed[entry.name]} registration of {entry.name!r}"
    elif slot is not None and slot.chosen is not None and slot.chosen is not entry:
        info.status = "shadowed"
        info.error = f"{choice_variable(entry.name)} chooses {slot.chosen.distribution}"
    elif slot is not None and slot.chosen is None:
        info.status, info.error = "conflict", slot.problem.message if slot.problem else None
    elif slot is not None and (load or slot.provider is not None or slot.problem is not None):
        try:
            provider = slot.load()
        except LLMCtlError as error:
            info.status, info.error = "error", error.message
            info.exception = error.__cause__ or error
        else:
            info.status = "ok"
            info.operations = [op for op in OPERATIONS if op in provider.operations]
    return info


def _build_providers(
    entries: Any, previous: dict[str, Provider], *, where: str, source: str
) -> dict[str, Provider]:
    """Validate a ``custom_provider_map`` and index it by name, reusing unchanged providers."""
    if not isinstance(entries, (list, tuple)):
        raise TypeError(
            f"{where} must be a list of {{'provider': name, 'custom_handler': handler}} dicts, "
            f"got {type(entries).__name__}"
        )
    providers: dict[str, Provider] = {}
    for i, entry in enumerate(entries):
        at = f"{where}[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("provider"), str):
            raise TypeError(
                f"{at} must be a dict like {{'provider': 'my-llm', 'custom_handler': "
                f"MyCustomLLM()}}, got {entry!r:.80}"
            )
        name, handler = entry["provider"], entry.get("custom_handler")
        if name in providers:
            raise ValueError(f"{at} registers provider {name!r} a second time; remove one")
        if isinstance(handler, type):
            raise TypeError(
                f"{at}['custom_handler'] is the class {handler.__name__}; "
                f"pass an instance: {handler.__name__}()"
            )
        if not implemented_operations(handler):
            raise TypeError(
                f"{at}['custom_handler'] is {handler!r:.60}, which implements no operation; "
                "pass an instance of a CustomLLM subclass that overrides completion "
                "(or another operation)"
            )
        old = previous.get(name)
        providers[name] = (
            old if old is not None and old.handler is handler else Provider(name, handler, source)
        )
    return providers


#: The registry every call goes through.
registry: Final = Registry()
