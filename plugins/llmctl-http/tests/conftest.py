from __future__ import annotations

from collections.abc import Iterator

import pytest
from llmctl.http import close_clients
from llmctl.testserver import LoopbackServer

from fake_acme import Acme, Recorded

#: Where the fake listens, once the session's server started (for the conformance classes).
ADDRESS: dict[str, str] = {}


class Backend:
    """The fake server running on 127.0.0.1, and what it received."""

    def __init__(self, fake: Acme, url: str) -> None:
        self.fake = fake
        self.url = url

    @property
    def requests(self) -> list[Recorded]:
        return self.fake.requests

    @property
    def last(self) -> Recorded:
        return self.fake.last


@pytest.fixture(scope="session", autouse=True)
def _server() -> Iterator[Backend]:
    fake = Acme()
    with LoopbackServer(fake.app()) as server:
        ADDRESS["url"] = server.url
        yield Backend(fake, server.url)
    close_clients()  # no pooled socket left to the garbage collector


@pytest.fixture
def backend(_server: Backend, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """The fake with its record cleared, no key asked, and no address in the environment."""
    _server.fake.requests.clear()
    _server.fake.api_key = None
    monkeypatch.delenv("LLMCTL_HTTP_API_BASE", raising=False)
    monkeypatch.delenv("LLMCTL_HTTP_API_KEY", raising=False)
    return _server
