"""Turn a config into a running server: check it, load its providers, start uvicorn.

Start-up says what will be served and what will not (a model whose provider is missing,
settings llmctl ignores, serving without a key), and refuses what is unsafe (no key, or a
weak one, on an address other than loopback).
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import llmctl
from llmctl.exceptions import LLMCtlError
from llmctl.proxy.app import ProxyState, create_app
from llmctl.proxy.auth import bind_problem, is_weak_key
from llmctl.proxy.config import ConfigError, LoadedConfig, load_config
from llmctl.proxy.models import Deployment, ModelMap
from llmctl.proxy.tracing import LogFormatter, RequestIdFilter, RequestIds
from llmctl.registry import registry
from llmctl.request import DEFAULT_TIMEOUT

__all__ = ["ServerPlan", "app_from_environment", "configure_logging", "plan", "serve"]

_logger = logging.getLogger("llmctl.proxy")

#: Environment variables that hand the command line's choices to ``--workers`` processes.
_CONFIG_VARIABLE: Final = "LLMCTL_SERVE_CONFIG"
_ACCESS_LOG_VARIABLE: Final = "LLMCTL_SERVE_ACCESS_LOG"

_LOG_FORMAT: Final = "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s"


@dataclass
class ServerPlan:
    """What a config will serve, and what start-up has to say about it."""

    state: ProxyState
    #: Problems that do not stop the server: each model, setting or key at fault, and why.
    warnings: list[str] = field(default_factory=list)
    #: The providers the models reach, loaded.
    providers: list[str] = field(default_factory=list)


def plan(loaded: LoadedConfig | None) -> ServerPlan:
    """Register a config's handlers, load the providers its models name, and say what is off.

    Without a config every installed provider is served, as ``provider/model``.

    :raises ConfigError: a ``custom_provider_map`` entry is not a handler.
    """
    if loaded is None:
        deployments = [Deployment("*", "*", {"timeout": DEFAULT_TIMEOUT})]
        state = ProxyState(ModelMap(deployments))
        out = ServerPlan(state)
    else:
        out = _plan_config(loaded)
    seen: set[str] = set()
    for deployment in out.state.models.deployments:
        for name in deployment.providers():
            if name in seen:
                continue
            seen.add(name)
            try:
                provider = registry.provider(name)
            except LLMCtlError as error:
                out.warnings.append(
                    f"model {deployment.model_name!r} ({deployment.where or 'no config'}) "
                    f"will answer an error: {error.message}"
                )
                continue
            out.providers.append(name)
            if provider.plugin is not None and provider.plugin.distribution:
                out.state.owners[name] = provider.plugin.distribution
    return out


def _plan_config(loaded: LoadedConfig) -> ServerPlan:
    config = loaded.config
    name = loaded.path.name if loaded.path else "config"
    try:
        registry.configure(loaded.custom_provider_map)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}: {exc}") from None
    settings, general = config.litellm_settings, config.general_settings
    if settings.drop_params:
        llmctl.drop_params = True
    deployments = [
        Deployment.from_entry(
            entry, where=f"{name} model_list[{i}]", default_timeout=settings.request_timeout
        )
        for i, entry in enumerate(config.model_list)
    ]
    state = ProxyState(
        ModelMap(deployments),
        master_key=general.master_key,
        max_body=int(general.max_request_size_mb * 2**20),
        owners=dict(loaded.handler_paths),
    )
    out = ServerPlan(state)
    ignored = config.ignored_settings() + [p for d in deployments for p in d.ignored]
    if ignored:
        out.warnings.append(f"{name}: llmctl ignores these settings: {', '.join(ignored)}")
    if not deployments:
        out.warnings.append(f"{name}: model_list is empty, so no model can be called")
    return out


def configure_logging(level: str = "info") -> None:
    """Log to stderr, every line stamped with its request id."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogFormatter(_LOG_FORMAT))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def serve(
    config_path: str | None,
    *,
    host: str = "127.0.0.1",
    port: int = 4000,
    workers: int = 1,
    access_log: bool = True,
    log_level: str = "info",
    graceful_timeout: float | None = None,
) -> None:
    """Check the config, say what will be served, and serve it until stopped.

    :raises ConfigError: the config is invalid, or unsafe for ``host``.
    """
    import uvicorn

    configure_logging(log_level)
    loaded = load_config(config_path) if config_path is not None else None
    server_plan = plan(loaded)
    state = server_plan.state
    general = loaded.config.general_settings if loaded is not None else None
    problem = bind_problem(
        host,
        state.master_key,
        allow_remote_without_key=bool(general and general.allow_remote_without_key),
    )
    if problem is not None:
        raise ConfigError(problem)
    _announce(server_plan, loaded, host, port)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,  # ours, above: every line carries its request id
        "log_level": log_level,
        "access_log": False,  # llmctl's own access log carries the request id
        "timeout_graceful_shutdown": graceful_timeout,
    }
    if workers > 1:
        # Each worker process builds its own app from the same config.
        if config_path is not None:
            os.environ[_CONFIG_VARIABLE] = str(Path(config_path).resolve())
        os.environ[_ACCESS_LOG_VARIABLE] = "1" if access_log else "0"
        factory = "llmctl.proxy.server:app_from_environment"
        uvicorn.run(factory, factory=True, workers=workers, **options)
    else:
        uvicorn.run(create_app(state, access_log=access_log), **options)


def app_from_environment() -> RequestIds:
    """Build the app in a ``--workers`` process, from what the parent process checked."""
    configure_logging()
    path = os.environ.get(_CONFIG_VARIABLE)
    server_plan = plan(load_config(path) if path else None)
    access_log = os.environ.get(_ACCESS_LOG_VARIABLE, "1") == "1"
    return create_app(server_plan.state, access_log=access_log)


def _announce(out: ServerPlan, loaded: LoadedConfig | None, host: str, port: int) -> None:
    state = out.state
    source = f"config {loaded.path}" if loaded is not None and loaded.path else "no config"
    if loaded is None:
        what = "every installed provider as provider/model"
    else:
        what = f"{len(state.models)} model(s)"
    shown = f"[{host}]" if ":" in host else host
    _logger.info(
        "llmctl %s serving %s on http://%s:%d (%s); providers: %s",
        llmctl.__version__,
        what,
        shown,
        port,
        source,
        ", ".join(out.providers) or "none",
    )
    for warning in out.warnings:
        _logger.warning("%s", warning)
    if state.master_key is None:
        _logger.warning(
            "no master_key: serving without authentication, on a loopback address only "
            "(set general_settings.master_key to require 'Authorization: Bearer <key>')"
        )
    elif is_weak_key(state.master_key):
        _logger.warning(
            "the master_key is weak (an example key, or short): fine on loopback, refused on "
            "any other address"
        )
