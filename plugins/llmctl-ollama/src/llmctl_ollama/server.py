"""Where a call goes: the Ollama server's address and key, from the call or the environment.

The address is the server's root (``http://localhost:11434``), where Ollama's native API
lives under ``/api``; the call's ``api_base``, else ``$OLLAMA_API_BASE`` (LiteLLM's name),
else ``http://localhost:11434``. A key is optional: Ollama itself takes none, but one behind
an authenticating proxy (or ollama.com) does, and the call's ``api_key``, else
``$OLLAMA_API_KEY``, is sent as ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from llmctl.exceptions import BadRequestError
from llmctl.http import Endpoint

__all__ = ["BASE_ENV", "DEFAULT_BASE", "KEY_ENV", "PROVIDER", "endpoint"]

#: The provider's name in messages.
PROVIDER: Final = "ollama"
#: The environment variable holding the server's address.
BASE_ENV: Final = "OLLAMA_API_BASE"
#: The environment variable holding the key, for a server behind an authenticating proxy.
KEY_ENV: Final = "OLLAMA_API_KEY"
#: Where Ollama listens by default.
DEFAULT_BASE: Final = "http://localhost:11434"


def endpoint(
    *,
    model: str | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: Any = None,
    client: Any = None,
) -> Endpoint:
    """Return the endpoint of one call to the Ollama server.

    :raises BadRequestError: the address ends in ``/v1``, Ollama's OpenAI-compatible API,
        which this provider does not speak; or the timeout is not a number of seconds.
    """
    server = Endpoint.from_call(
        PROVIDER,
        model=model,
        api_base=api_base,
        api_key=api_key,
        headers=headers,
        timeout=timeout,
        client=client,
        base_env=BASE_ENV,
        key_env=KEY_ENV,
        default_base=DEFAULT_BASE,
    )
    if urlsplit(server.base_url).path.endswith("/v1"):
        root = server.base_url.removesuffix("/v1")
        raise BadRequestError(
            f"ollama speaks Ollama's native API (/api/chat, /api/embed) at the server's root, "
            f"but api_base {server.base_url!r} ends in /v1, the OpenAI-compatible API: use "
            f"api_base={root!r} (or call it as openai_compatible/<model>)",
            llm_provider=PROVIDER,
            model=model,
            param="api_base",
        )
    return server
