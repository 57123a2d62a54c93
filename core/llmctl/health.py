"""Providers' cheap health checks: whether the backend is up, and how fast it answers.

A provider's ``health_check`` asks its backend something that bills nothing (its model list,
a ping). ``llmctl providers check`` and the proxy's ``/health`` run it through here.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from llmctl.exceptions import LLMCtlError, UnsupportedOperationError
from llmctl.handler import implements
from llmctl.registry import registry

__all__ = ["HealthReport", "acheck_provider", "check_provider"]


@dataclass
class HealthReport:
    """What one provider's health check found."""

    name: str
    #: ``ok``, ``failed`` (the check raised or timed out), ``error`` (the provider did not
    #: load) or ``unchecked`` (it has no health check).
    status: str
    #: Seconds the check took, when it ran.
    latency: float | None = None
    #: What the check returned.
    answer: Any = None
    #: Why the status is not ``ok``, in one line.
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the report as ``llmctl providers check --json`` prints it."""
        return {
            "name": self.name,
            "status": self.status,
            "latency_ms": None if self.latency is None else round(self.latency * 1000, 3),
            "answer": self.answer,
            "error": self.error,
        }


async def acheck_provider(
    name: str,
    *,
    timeout: float = 10.0,
    api_base: str | None = None,
    api_key: str | None = None,
    litellm_params: Mapping[str, Any] | None = None,
) -> HealthReport:
    """Load the provider called ``name`` and run its health check within ``timeout`` seconds.

    A sync check runs in a worker thread, so it never blocks the event loop. A check that
    raises :class:`~llmctl.exceptions.UnsupportedOperationError` (it cannot check this
    backend) is reported ``unchecked``.

    :param litellm_params: the model's config (its ``litellm_params`` in config.yaml), for a
        check that needs more than an address (a declared health endpoint, say).
    """
    import asyncio

    try:
        provider = registry.provider(name)
    except LLMCtlError as error:
        return HealthReport(name, "error", error=error.message)
    if not implements(provider.handler, "health_check"):
        return HealthReport(name, "unchecked", error="the provider has no health_check")
    method = provider.method("health_check")
    # custom_llm_provider: the name it was called by, for a handler serving several names
    # (it gets the argument only if it declares it).
    kwargs = {
        "api_base": api_base,
        "api_key": api_key,
        "timeout": timeout,
        "custom_llm_provider": name,
        "litellm_params": dict(litellm_params or {}),
    }

    async def ask() -> Any:
        answer = await _in_daemon_thread(method, kwargs)
        return await answer if inspect.isawaitable(answer) else answer

    start = time.perf_counter()
    try:
        answer = await asyncio.wait_for(ask(), timeout)
    except asyncio.TimeoutError:
        elapsed = time.perf_counter() - start
        return HealthReport(name, "failed", elapsed, error=f"no answer within {timeout:g} s")
    except UnsupportedOperationError as exc:
        return HealthReport(name, "unchecked", error=exc.message)
    except Exception as exc:
        elapsed = time.perf_counter() - start
        problem = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        return HealthReport(name, "failed", elapsed, error=problem)
    return HealthReport(name, "ok", time.perf_counter() - start, answer)


def _in_daemon_thread(func: Callable[..., Any], kwargs: dict[str, Any]) -> Awaitable[Any]:
    """Call ``func(**kwargs)`` in a daemon thread and return a future of its result.

    A daemon thread, so that a check hanging past its timeout does not keep the process
    (``llmctl providers check``) from exiting.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(outcome: Callable[[Any], None], value: Any) -> None:
        if not future.done():  # the caller may have given up (timed out) already
            outcome(value)

    def run() -> None:
        try:
            result = func(**kwargs)
        except BaseException as exc:
            loop.call_soon_threadsafe(settle, future.set_exception, exc)
        else:
            loop.call_soon_threadsafe(settle, future.set_result, result)

    threading.Thread(target=run, name="llmctl-health-check", daemon=True).start()
    return future


def check_provider(name: str, **kwargs: Any) -> HealthReport:
    """Run :func:`acheck_provider` from sync code; the arguments are the same."""
    from llmctl._bridge import run_sync

    return run_sync(acheck_provider(name, **kwargs))
