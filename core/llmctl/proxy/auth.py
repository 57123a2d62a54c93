"""Who may call the server: the master key, and where a server without one may listen.

With ``general_settings.master_key`` set, every request but the liveness and readiness
probes carries ``Authorization: Bearer <key>`` (or ``api-key: <key>``, as Azure-style clients
send it), compared in constant time. Without a key the server listens on loopback only,
unless the config says ``allow_remote_without_key: true``. A known example key such as the
feature guide's ``sk-1234`` is accepted on loopback with a warning, never elsewhere.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Final

from starlette.datastructures import Headers

from llmctl.exceptions import AuthenticationError

__all__ = ["KeyCheck", "bind_problem", "is_loopback", "is_weak_key"]

#: Example keys from documentation, first among the keys an attacker tries.
_EXAMPLE_KEYS: Final = frozenset(
    {"sk-1234", "sk-12345", "sk-123456", "1234", "12345", "changeme", "password", "secret"}
)

#: Keys shorter than this are guessable.
MIN_KEY_LENGTH: Final = 16


def is_weak_key(key: str) -> bool:
    """Whether ``key`` is a documentation example or too short to resist guessing."""
    return key in _EXAMPLE_KEYS or len(key) < MIN_KEY_LENGTH


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_problem(
    host: str, master_key: str | None, *, allow_remote_without_key: bool
) -> str | None:
    """Return why the server must not listen on ``host`` with this key, or None."""
    if is_loopback(host):
        return None
    if master_key is None and not allow_remote_without_key:
        return (
            f"refusing to serve on {host} without a master key: anyone who can reach it could "
            "spend your backends. Set general_settings.master_key in config.yaml (for example "
            "master_key: os.environ/LLMCTL_MASTER_KEY), serve on 127.0.0.1, or set "
            "general_settings.allow_remote_without_key: true"
        )
    if master_key is not None and is_weak_key(master_key):
        return (
            f"refusing to serve on {host} with a weak master key (an example key, or fewer "
            f"than {MIN_KEY_LENGTH} characters); generate one with: python -c "
            "\"import secrets; print('sk-' + secrets.token_urlsafe(32))\""
        )
    return None


class KeyCheck:
    """Check a request's key against the master key, in constant time.

    :param master_key: the key every request must carry.
    """

    __slots__ = ("_key",)

    def __init__(self, master_key: str) -> None:
        self._key = master_key.encode()

    def __call__(self, headers: Headers) -> None:
        """Accept the request or raise.

        :raises AuthenticationError: (401) no key, or not the master key; the message never
            repeats what was sent.
        """
        authorization = headers.get("authorization")
        if authorization is not None:
            scheme, _, given = authorization.partition(" ")
            if scheme.lower() != "bearer":
                raise _refused("the Authorization header must be 'Bearer <key>'")
        else:
            given = headers.get("api-key", "")
            if not given:
                raise _refused("no API key: send the header 'Authorization: Bearer <key>'")
        if not hmac.compare_digest(given.strip().encode(), self._key):
            raise _refused("the API key is not valid for this server")


def _refused(problem: str) -> AuthenticationError:
    return AuthenticationError(
        f"{problem}; use the master_key of the server's config.yaml",
        code="invalid_api_key",
    )
