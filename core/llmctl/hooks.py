"""Call hooks: plugins that see every call (``pre_call``, ``post_call``, ``on_error``).

They are registered in code with :func:`register_hooks`, or found in the entry point group
``llmctl.hooks``, read (and pluggy imported) on the first call. A call without hooks pays one
attribute check; a hook plugin that fails to load is logged and left out, never fatal.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, NoReturn

from llmctl.exceptions import PluginLoadError, from_handler_exception
from llmctl.plugins import HOOK_GROUP, PluginEntry, entry_points, skip_reason

if TYPE_CHECKING:
    import pluggy

    from llmctl.request import CallRequest
    from llmctl.types.responses import ModelResponseStream

__all__ = [
    "CallHooks",
    "aobserve",
    "call_hooks",
    "fail",
    "notify_error",
    "observe",
    "register_hooks",
    "run_post_call",
    "run_pre_call",
    "unregister_hooks",
]

_logger = logging.getLogger("llmctl")


class CallHooks:
    """The call-hook plugins of this process, behind one pluggy plugin manager."""

    def __init__(self) -> None:
        self._manager: pluggy.PluginManager | None = None
        self._code: dict[object, str | None] = {}
        self._lock = threading.Lock()
        #: The hook relay when at least one plugin is registered, else None.
        self.relay: Any = None
        #: Entry point plugins that failed to load, with their errors.
        self.errors: list[PluginLoadError] = []

    def active(self) -> Any:
        """Return the hook relay (``relay.pre_call(request=...)``), or None without hooks."""
        if self._manager is None:
            self._load()
        return self.relay

    def register(self, plugin: object, name: str | None = None) -> None:
        """Register a module or object of ``@llmctl.hookimpl`` call hooks.

        :raises pluggy.PluginValidationError: a hook does not match
            :class:`~llmctl.hookspecs.CallHookSpecs`; the plugin is not registered.
        :raises TypeError: the plugin is not hashable (pluggy keeps plugins in sets).
        """
        try:
            hash(plugin)
        except TypeError:
            raise TypeError(
                f"call-hook plugin {plugin!r:.60} is not hashable, and pluggy keeps plugins in "
                "sets; give its class a __hash__ (for a dataclass: @dataclass(eq=False))"
            ) from None
        _add(self._load(), plugin, name)
        self._code[plugin] = name
        self._update()

    def unregister(self, plugin: object) -> None:
        """Remove a plugin given to :meth:`register`; its hooks stop running."""
        manager = self._manager  # not loaded yet: entry points need not be read for this
        if manager is not None and manager.is_registered(plugin):
            manager.unregister(plugin)
        self._code.pop(plugin, None)
        self._update()

    def refresh(self) -> None:
        """Read the ``llmctl.hooks`` entry points again on the next call; keep code plugins."""
        with self._lock:
            self._manager = None
            self.errors = []

    def _load(self) -> pluggy.PluginManager:
        with self._lock:
            if self._manager is None:
                manager = self._discover()
                for plugin, name in self._code.items():
                    _add(manager, plugin, name)
                self._manager = manager
                self._update()
            return self._manager

    def _discover(self) -> pluggy.PluginManager:
        import pluggy

        from llmctl.hookspecs import PROJECT, CallHookSpecs

        manager = pluggy.PluginManager(PROJECT)
        manager.add_hookspecs(CallHookSpecs)
        for entry in entry_points(HOOK_GROUP):
            if skip_reason(entry) is None:
                try:
                    _register_entry(manager, entry)
                except PluginLoadError as error:
                    self.errors.append(error)
                    _logger.warning("%s", error)
        return manager

    def _update(self) -> None:
        manager = self._manager
        self.relay = manager.hook if manager is not None and manager.get_plugins() else None


def _add(manager: pluggy.PluginManager, plugin: object, name: str | None) -> None:
    """Register ``plugin``, or leave the manager as it was if its hooks do not match."""
    import pluggy

    manager.register(plugin, name)
    try:
        manager.check_pending()
        for hook in (manager.hook.pre_call, manager.hook.post_call):
            for impl in hook.get_hookimpls():
                if impl.plugin is plugin and (impl.hookwrapper or impl.wrapper):
                    raise pluggy.PluginValidationError(
                        plugin,
                        f"{hook.name} of {plugin!r:.60} is a wrapper; call hooks chain by "
                        "return value instead: return a replacement, or None to keep it",
                    )
    except Exception:
        manager.unregister(plugin)
        raise


def _register_entry(manager: pluggy.PluginManager, entry: PluginEntry) -> None:
    import pluggy

    plugin = entry.load()
    try:
        _add(manager, plugin, f"{entry.distribution}:{entry.name}")
    except (pluggy.PluginValidationError, ValueError) as exc:
        problem = str(exc).replace("\n", " ")
        raise entry.error(f"does not match llmctl's call hooks: {problem}") from exc


#: The call hooks every call runs.
call_hooks = CallHooks()


def register_hooks(plugin: object, name: str | None = None) -> None:
    """Run the ``@llmctl.hookimpl`` call hooks of ``plugin`` (a module or object) on every call."""
    call_hooks.register(plugin, name)


def unregister_hooks(plugin: object) -> None:
    """Stop running the call hooks of a plugin given to :func:`register_hooks`."""
    call_hooks.unregister(plugin)


def run_pre_call(relay: Any, request: CallRequest) -> CallRequest:
    """Run the ``pre_call`` hooks in order, each given the request the previous one returned.

    :raises TypeError: a hook returned something that is not a ``CallRequest``.
    """
    from llmctl.request import CallRequest

    for impl in reversed(relay.pre_call.get_hookimpls()):  # pluggy's call order
        arguments = {"request": request}
        result = impl.function(*(arguments[name] for name in impl.argnames))
        if result is not None:
            if not isinstance(result, CallRequest):
                raise TypeError(
                    f"pre_call hook of {impl.plugin_name} returned {type(result).__name__}; "
                    "return a CallRequest to replace the request, or None to keep it"
                )
            request = result
    return request


def run_post_call(relay: Any, request: CallRequest, response: Any) -> Any:
    """Run the ``post_call`` hooks in order, each given the response the previous one returned."""
    for impl in reversed(relay.post_call.get_hookimpls()):
        arguments = {"request": request, "response": response}
        result = impl.function(*(arguments[name] for name in impl.argnames))
        if result is not None:
            response = result
    return response


def fail(exc: Exception, request: CallRequest, relay: Any) -> NoReturn:
    """Raise what failed as an llmctl error, after the ``on_error`` hooks (if any) saw it."""
    error = from_handler_exception(exc, llm_provider=request.provider, model=request.model)
    if relay is not None:
        notify_error(relay, request, error)
    if error is exc:
        raise error
    raise error from exc


def observe(
    chunks: Iterator[ModelResponseStream], request: CallRequest, relay: Any
) -> Iterator[ModelResponseStream]:
    """Pass a stream's chunks through, then run ``post_call`` (or ``on_error``) at its end."""
    seen = []
    try:
        for chunk in chunks:
            seen.append(chunk)
            yield chunk
        run_post_call(relay, request, _rebuild(seen))
    except Exception as exc:
        fail(exc, request, relay)
    finally:  # a caller closing the stream early closes the handler's generator too
        chunks.close()  # type: ignore[attr-defined]


async def aobserve(
    chunks: AsyncIterator[ModelResponseStream], request: CallRequest, relay: Any
) -> AsyncIterator[ModelResponseStream]:
    """:func:`observe` for an async stream."""
    seen = []
    try:
        async for chunk in chunks:
            seen.append(chunk)
            yield chunk
        run_post_call(relay, request, _rebuild(seen))
    except Exception as exc:
        fail(exc, request, relay)
    finally:
        await chunks.aclose()  # type: ignore[attr-defined]


def notify_error(relay: Any, request: CallRequest, error: BaseException) -> None:
    """Run the ``on_error`` hooks; a hook that raises is logged, the call's error stands."""
    try:
        relay.on_error(request=request, error=error)
    except Exception:
        _logger.exception("an on_error hook raised while reporting %r", error)


def _rebuild(chunks: list[ModelResponseStream]) -> Any:
    from llmctl.chunk_builder import stream_chunk_builder

    return stream_chunk_builder(chunks) if chunks else None
