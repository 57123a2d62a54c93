"""The public model names a server answers to, and the call each one becomes.

A client asks for ``my-custom-model``; the config's ``model_list`` says that is
``my-custom-llm/my-model`` at some ``api_base`` with some ``api_key``. A name ending in ``*``
(LiteLLM's wildcard, ``ollama/*`` or ``*``) serves every model under it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from llmctl.exceptions import LLMCtlError, NotFoundError
from llmctl.proxy.config import ModelEntry
from llmctl.registry import registry
from llmctl.request import CALL_ARGUMENTS, DEFAULT_TIMEOUT

__all__ = ["ROUTER_PARAMS", "Deployment", "ModelMap", "capabilities"]

#: LiteLLM router settings found in ``litellm_params``: not arguments of a call, and not
#: acted on until llmctl has a router; start-up names them as ignored.
ROUTER_PARAMS: Final = frozenset({"rpm", "tpm", "weight", "order", "max_parallel_requests"})

#: ``litellm_params`` keys the server itself acts on.
_SERVER_PARAMS: Final = frozenset({"model", "stream_timeout"})

#: What each handler operation lets a model serve, as ``/v1/models`` names it.
_CAPABILITIES: Final = {
    "completion": "chat",
    "acompletion": "chat",
    "streaming": "chat",
    "astreaming": "chat",
    "embedding": "embeddings",
    "aembedding": "embeddings",
    "image_generation": "images",
    "aimage_generation": "images",
}


def capabilities(provider: str) -> list[str]:
    """Return what the provider's handler serves (``chat``, ``embeddings``, ``images``).

    Empty when the provider does not load.
    """
    try:
        operations = registry.provider(provider).operations
    except LLMCtlError:
        return []
    return sorted({_CAPABILITIES[op] for op in operations if op in _CAPABILITIES})


@dataclass(frozen=True)
class Deployment:
    """One ``model_list`` entry, ready to call.

    :param model_name: the name clients ask for; ends with ``*`` for a wildcard.
    :param model: ``provider/model`` (ends with ``*`` for a wildcard).
    :param arguments: keyword arguments of every call: ``api_base``, ``api_key``, the
        entry's extra keys (which reach the handler in ``optional_params``), and
        ``litellm_params`` (those extra keys again, where handlers look for them too).
    :param timeout: seconds the handler has to answer.
    :param stream_timeout: seconds a stream may wait for its first chunk and between two.
    :param where: the entry's YAML path, for messages.
    """

    model_name: str
    model: str
    arguments: dict[str, Any] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    stream_timeout: float = DEFAULT_TIMEOUT
    ignored: tuple[str, ...] = ()
    where: str = ""

    @classmethod
    def from_entry(
        cls, entry: ModelEntry, *, where: str, default_timeout: float | None = None
    ) -> Deployment:
        """Build a deployment from a checked ``model_list`` entry."""
        params = entry.litellm_params
        values = params.model_dump(exclude_none=True)
        arguments: dict[str, Any] = {}
        extras: dict[str, Any] = {}
        ignored: list[str] = []
        for key, value in values.items():
            if key in _SERVER_PARAMS:
                continue
            if key in ROUTER_PARAMS:
                ignored.append(f"{where}.litellm_params.{key}")
            elif key in CALL_ARGUMENTS:
                arguments[key] = value
            else:
                extras[key] = value
        if extras:
            # In optional_params as in LiteLLM, and in litellm_params where its users look
            # (LiteLLM issue #18216).
            arguments.update(extras)
            arguments["litellm_params"] = extras
        if entry.model_info is not None:
            arguments["model_info"] = entry.model_info
        timeout = params.timeout or default_timeout or DEFAULT_TIMEOUT
        arguments["timeout"] = timeout
        return cls(
            entry.model_name,
            params.model,
            arguments,
            timeout=timeout,
            stream_timeout=params.stream_timeout or timeout,
            ignored=tuple(ignored),
            where=where,
        )

    @property
    def is_wildcard(self) -> bool:
        """Whether the entry serves every name under a prefix."""
        return self.model_name.endswith("*")

    @property
    def provider(self) -> str | None:
        """The provider every call goes to, or None for the catch-all ``*``."""
        provider, slash, _ = self.model.partition("/")
        return provider if slash else None

    def providers(self) -> list[str]:
        """Return the providers its calls reach: its own, or every registered one for ``*``."""
        provider = self.provider
        return [provider] if provider is not None else registry.names()

    def target(self, requested: str) -> str:
        """Return the ``provider/model`` string a request for ``requested`` calls."""
        if not self.model.endswith("*"):
            return self.model  # a wildcard name may call one fixed model, as in LiteLLM
        return self.model[:-1] + requested[len(self.model_name) - 1 :]


class ModelMap:
    """Public model names to deployments: exact names first, then the longest wildcard."""

    def __init__(self, deployments: Iterable[Deployment]) -> None:
        self.deployments = list(deployments)
        self._exact: dict[str, Deployment] = {}
        for deployment in self.deployments:
            if not deployment.is_wildcard:
                self._exact.setdefault(deployment.model_name, deployment)  # the first serves
        self._wildcards = sorted(
            (d for d in self.deployments if d.is_wildcard),
            key=lambda d: len(d.model_name),
            reverse=True,
        )

    def __len__(self) -> int:
        return len(self.deployments)

    def resolve(self, requested: str) -> tuple[Deployment, str]:
        """Return the deployment serving ``requested`` and the model string to call.

        :raises NotFoundError: no entry serves the name (404 ``model_not_found``, as OpenAI
            answers); the message lists the served names and the closest one.
        """
        deployment = self._exact.get(requested)
        if deployment is not None:
            return deployment, deployment.model
        for wildcard in self._wildcards:
            prefix = wildcard.model_name[:-1]
            if requested.startswith(prefix) and len(requested) > len(prefix):
                target = wildcard.target(requested)
                if "/" in target:
                    return wildcard, target
        raise self._unknown(requested)

    def _unknown(self, requested: str) -> NotFoundError:
        names = [d.model_name for d in self.deployments]
        close = difflib.get_close_matches(requested, names, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        served = ", ".join(names) if names else "none"
        wildcard = "" if self._wildcards else " (add it to model_list in config.yaml)"
        return NotFoundError(
            f"the model {requested!r} does not exist on this server{wildcard}; "
            f"{hint}Served: {served}.",
            param="model",
            code="model_not_found",
        )
