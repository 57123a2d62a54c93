"""``/health`` and the probes: is each model's backend up, and is the server.

``GET /health`` runs each provider's cheap ``health_check`` (a model list, a ping: nothing
billed). ``GET /health?probe=completion`` asks each model for one token (an embedding model
for one embedding) instead, through the same path as a client's request: billable, so only
when asked. ``/health/liveness`` and ``/health/readiness`` need no key, for orchestrators.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from starlette.requests import Request
from starlette.responses import Response

import llmctl
from llmctl.dispatch import acompletion, aembedding
from llmctl.exceptions import BadRequestError, from_handler_exception
from llmctl.health import acheck_provider
from llmctl.proxy.models import capabilities
from llmctl.proxy.responses import JSONBody

if TYPE_CHECKING:
    from llmctl.proxy.app import ProxyState
    from llmctl.proxy.models import Deployment

__all__ = ["HEALTH_TIMEOUT", "PROBE_MESSAGES", "alive", "health", "readiness"]

#: Seconds ``/health`` gives each check unless ``?timeout=`` says otherwise.
HEALTH_TIMEOUT: Final = 10.0

#: What ``?probe=completion`` sends a chat model, with ``max_tokens=1`` (an embedding model
#: embeds ``"ping"``).
PROBE_MESSAGES: Final = ({"role": "user", "content": "ping"},)

_PROBES: Final = ("completion",)


async def health(request: Request, state: ProxyState) -> Response:
    """GET /health: the providers' cheap checks, or one-token completions; side by side.

    ``?probe=completion`` asks each model for one token (billable) instead of running its
    provider's ``health_check``. ``?model=NAME`` checks one model; ``?timeout=SECONDS``
    bounds each check.
    """
    timeout = _float_query(request, "timeout", HEALTH_TIMEOUT)
    only = request.query_params.get("model")
    probe = request.query_params.get("probe")
    if probe is None:
        rows = await _provider_checks(state, only, timeout)
    elif probe in _PROBES:
        rows = await _completion_probes(state, only, timeout)
    else:
        raise BadRequestError(
            f"?probe= takes {', '.join(map(repr, _PROBES))} (a billable one-token call per "
            f"model), got {probe!r}; leave it out for the providers' own free checks",
            param="probe",
        )
    buckets: dict[str, list[dict[str, Any]]] = {"ok": [], "failed": [], "unchecked": []}
    for row in rows:
        buckets["failed" if row["status"] == "error" else row["status"]].append(row)
    body = {
        "healthy_endpoints": buckets["ok"],
        "unhealthy_endpoints": buckets["failed"],
        "unchecked_endpoints": buckets["unchecked"],
        "healthy_count": len(buckets["ok"]),
        "unhealthy_count": len(buckets["failed"]),
    }
    return JSONBody(json.dumps(body, default=repr).encode())


async def _provider_checks(
    state: ProxyState, only: str | None, timeout: float
) -> list[dict[str, Any]]:
    # One check per backend: models sharing a provider, an address, a key and a config
    # (litellm_params' extra keys, which may describe the backend) share it.
    targets: dict[tuple[str, str | None, str | None, str], list[str]] = {}
    configs: dict[str, dict[str, Any]] = {}
    for deployment in state.models.deployments:
        if only is not None and deployment.model_name != only:
            continue
        args = deployment.arguments
        config = args.get("litellm_params") or {}
        config_key = json.dumps(config, sort_keys=True, default=repr)
        configs[config_key] = config
        for provider in deployment.providers():
            key = (provider, args.get("api_base"), args.get("api_key"), config_key)
            targets.setdefault(key, []).append(deployment.model_name)
    if only is not None and not targets:
        state.models.resolve(only)  # raises the 404 that lists the served names
    checks = [
        acheck_provider(
            provider,
            timeout=timeout,
            api_base=base,
            api_key=key,
            litellm_params=configs[config_key],
        )
        for provider, base, key, config_key in targets
    ]
    rows = []
    for ((provider, base, _, _), models), report in zip(
        targets.items(), await asyncio.gather(*checks), strict=True
    ):
        row = {"models": models, "provider": provider, "api_base": base, **report.to_json()}
        del row["name"]
        rows.append(row)
    return rows


async def _completion_probes(
    state: ProxyState, only: str | None, timeout: float
) -> list[dict[str, Any]]:
    if only is not None:
        deployment, target = state.models.resolve(only)  # a wildcard's model too
        calls = [(only, deployment, target)]
    else:
        calls = [(d.model_name, d, d.model) for d in state.models.deployments]
    return list(await asyncio.gather(*(_probe(*call, timeout) for call in calls)))


async def _probe(name: str, deployment: Deployment, target: str, timeout: float) -> dict[str, Any]:
    provider, slash, _ = target.partition("/")
    row: dict[str, Any] = {
        "models": [name],
        "provider": provider if slash else None,
        "api_base": deployment.arguments.get("api_base"),
        "status": "unchecked",
        "latency_ms": None,
        "answer": None,
        "error": None,
    }
    if target.endswith("*"):
        row["error"] = (
            f"the wildcard {name!r} names no model to call; probe one it serves by name "
            "(?probe=completion&model=...)"
        )
        return row
    # A provider that does not load is asked for chat: the call says what is missing.
    serves = capabilities(provider) or ["chat"]
    mode = (deployment.arguments.get("model_info") or {}).get("mode")
    embeds = mode == "embedding" or "chat" not in serves
    if embeds and "embeddings" not in serves:
        row["error"] = "it serves only images: a probe would bill an image; /health checks it"
        return row
    # drop_params: a backend that takes no max_tokens is still probed.
    kwargs = {**deployment.arguments, "drop_params": True}
    start = time.perf_counter()
    answer: str | None
    try:
        if embeds:
            vectors = await asyncio.wait_for(aembedding(target, ["ping"], **kwargs), timeout)
            answer = f"an embedding of {len(vectors.data[0].embedding)} values"
        else:
            messages = [dict(message) for message in PROBE_MESSAGES]
            call = acompletion(target, messages, max_tokens=1, **kwargs)
            response = await asyncio.wait_for(call, timeout)
            answer = response.choices[0].message.content if response.choices else None
    except asyncio.TimeoutError:  # not yet the builtin TimeoutError on Python 3.10
        row["status"] = "failed"
        row["error"] = f"no answer within {timeout:g} s; raise ?timeout= if it needs longer"
    except Exception as exc:
        error = from_handler_exception(exc, llm_provider=row["provider"], model=name)
        row["status"] = "failed"
        row["error"] = f"{type(error).__name__} ({error.status_code}): {error.message}"
    else:
        row["status"], row["answer"] = "ok", answer
    row["latency_ms"] = round((time.perf_counter() - start) * 1000, 3)
    return row


async def alive(request: Request) -> Response:
    """GET /health/liveness (and LiteLLM's /health/liveliness): the process answers."""
    return JSONBody(b'"I\'m alive!"')


def readiness(state: ProxyState) -> Callable[[Request], Awaitable[Response]]:
    """Return the GET /health/readiness endpoint: the server is up and its config loaded."""
    body = json.dumps(
        {"status": "healthy", "llmctl_version": llmctl.__version__, "models": len(state.models)}
    ).encode()

    async def ready(request: Request) -> Response:
        """GET /health/readiness: the server is up and its config loaded."""
        return JSONBody(body)

    return ready


def _float_query(request: Request, name: str, default: float) -> float:
    value = request.query_params.get(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 < number < float("inf"):
        raise BadRequestError(f"?{name}= takes a positive number of seconds, got {value!r}")
    return number
