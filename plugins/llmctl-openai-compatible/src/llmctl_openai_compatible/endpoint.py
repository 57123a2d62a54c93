"""Where a call goes: the server's ``/v1`` address and its key, from the call or the environment.

Each provider name reads its own environment variables, ``<NAME>_API_BASE`` and
``<NAME>_API_KEY``: ``OPENAI_COMPATIBLE_API_BASE`` for ``openai_compatible/...``, LiteLLM's
``HOSTED_VLLM_API_BASE`` for ``hosted_vllm/...``, ``MY_VLLM_API_BASE`` for the handler
registered as ``my-vllm`` in ``custom_provider_map``.

An address with no path (``http://host:8000``) gets ``/v1``; one with a path
(``http://host:8000/v1``, ``https://gateway/openai/v1``) is used as it is.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final
from urllib.parse import urlsplit

from llmctl.http import Endpoint

__all__ = ["PROVIDER_NAMES", "endpoint", "environment_names"]

#: The names the plugin is installed under; the first is the default.
PROVIDER_NAMES: Final = ("openai_compatible", "hosted_vllm")


@lru_cache(maxsize=64)
def environment_names(provider: str) -> tuple[str, str]:
    """Return the variables of ``provider``'s address and key.

    ``openai_compatible`` gives ``("OPENAI_COMPATIBLE_API_BASE", "OPENAI_COMPATIBLE_API_KEY")``:
    the name in upper case, every character but a letter or digit turned into ``_``.
    """
    prefix = re.sub(r"[^A-Z0-9]", "_", provider.upper())
    return f"{prefix}_API_BASE", f"{prefix}_API_KEY"


@lru_cache(maxsize=256)
def _versioned(base: str) -> str:
    """Return ``base`` without a trailing slash, with ``/v1`` added when it has no path."""
    base = base.rstrip("/")
    return base if urlsplit(base).path else base + "/v1"


def endpoint(
    provider: str,
    *,
    model: str | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: Any = None,
    client: Any = None,
) -> Endpoint:
    """Return the endpoint of one call to ``provider``'s server.

    :param api_base: the call's address, else ``$<NAME>_API_BASE``.
    :param api_key: the call's key, else ``$<NAME>_API_KEY``; sent as ``Authorization:
        Bearer <key>``, and not at all when there is none.
    :raises BadRequestError: no address was given, naming the variable to set.
    """
    base_env, key_env = environment_names(provider)
    # Versioned before the endpoint is built (once per call; the environment is read only
    # when the call names no address).
    base = api_base or os.environ.get(base_env)
    return Endpoint.from_call(
        provider,
        model=model,
        api_base=_versioned(base) if base else None,
        api_key=api_key,
        headers=headers,
        timeout=timeout,
        client=client,
        base_env=base_env,
        key_env=key_env,
    )
