"""Finds providers by name: ``llmctl.custom_provider_map`` first.

A call reaches exactly one provider through a dict lookup. The map is read on every call but
rebuilt only when it changed (reassigned, appended to, an entry replaced), so registering a
handler takes effect on the next call with no rescan.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any, Final

import llmctl
from llmctl.exceptions import ProviderNotFoundError, UnsupportedOperationError
from llmctl.handler import implemented_operations

__all__ = ["Provider", "Registry", "registry"]

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
    :param source: where it was registered, for ``llmctl providers list``.
    """

    __slots__ = ("_methods", "_routes", "handler", "name", "operations", "source")

    def __init__(self, name: str, handler: object, source: str) -> None:
        self.name = name
        self.handler = handler
        self.source = source
        #: The operations the handler really implements (the rest are bridged).
        self.operations = implemented_operations(handler)
        self._methods: dict[str, Callable[..., Any]] = {}
        self._routes: dict[str, str] = {}

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


class Registry:
    """The providers a call can reach, by name."""

    def __init__(self) -> None:
        self._code_entries: tuple[Any, ...] = ()
        self._code: dict[str, Provider] = {}

    def provider(self, name: str, model: str | None = None) -> Provider:
        """Return the provider called ``name``.

        :param model: the model string of the call, for the error message.
        :raises ProviderNotFoundError: no provider has that name; the message lists the
            registered ones and the closest name.
        """
        code = self._code_providers()
        try:
            return code[name]
        except KeyError:
            raise self._not_found(name, model) from None

    def names(self) -> list[str]:
        """Return the names of every registered provider, sorted."""
        return sorted(self._code_providers())

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
            self._code = _build_code_providers(entries, self._code)
            self._code_entries = snapshot
        return self._code

    def _not_found(self, name: str, model: str | None) -> ProviderNotFoundError:
        names = self.names()
        close = difflib.get_close_matches(name, names, n=1)
        registered = ", ".join(names) or "none"
        subject = f" for model {model!r}" if model else ""
        # Suggest a package only for a name that is no typo of a registered one: never point
        # users at a distribution named after a misspelling.
        fix = (
            f"did you mean {close[0]!r}?"
            if close
            else f"install its provider plugin (llmctl-{name}) or add it to custom_provider_map."
        )
        return ProviderNotFoundError(
            f"no provider {name!r}{subject}; {fix} Registered: {registered}.",
            llm_provider=name,
            model=model,
            param="model",
        )


def _build_code_providers(entries: Any, previous: dict[str, Provider]) -> dict[str, Provider]:
    """Validate ``custom_provider_map`` and index it by name, reusing unchanged providers."""
    if not isinstance(entries, (list, tuple)):
        raise TypeError(
            "llmctl.custom_provider_map must be a list of "
            f"{{'provider': name, 'custom_handler': handler}} dicts, got {type(entries).__name__}"
        )
    providers: dict[str, Provider] = {}
    for i, entry in enumerate(entries):
        where = f"llmctl.custom_provider_map[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("provider"), str):
            raise TypeError(
                f"{where} must be a dict like {{'provider': 'my-llm', 'custom_handler': "
                f"MyCustomLLM()}}, got {entry!r:.80}"
            )
        name, handler = entry["provider"], entry.get("custom_handler")
        if name in providers:
            raise ValueError(f"{where} registers provider {name!r} a second time; remove one")
        if isinstance(handler, type):
            raise TypeError(
                f"{where}['custom_handler'] is the class {handler.__name__}; "
                f"pass an instance: {handler.__name__}()"
            )
        if not implemented_operations(handler):
            raise TypeError(
                f"{where}['custom_handler'] is {handler!r:.60}, which implements no operation; "
                "pass an instance of a CustomLLM subclass that overrides completion "
                "(or another operation)"
            )
        old = previous.get(name)
        providers[name] = (
            old
            if old is not None and old.handler is handler
            else Provider(name, handler, "custom_provider_map")
        )
    return providers


#: The registry every call goes through.
registry: Final = Registry()
