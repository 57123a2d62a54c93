from __future__ import annotations

from collections.abc import Iterator

import pytest
from llmctl.http import close_clients
from llmctl.testserver import LoopbackServer

from fake_openai import FakeServer, Recorded

KEY = "sk-fake-key"


class Backend:
    """The fake server running on 127.0.0.1, and what it received."""

    def __init__(self, fake: FakeServer, url: str) -> None:
        self.fake = fake
        self.url = url

    @property
    def requests(self) -> list[Recorded]:
        return self.fake.requests

    @property
    def last(self) -> Recorded:
        return self.fake.last


@pytest.fixture(scope="session", autouse=True)
def _pooled_clients_closed() -> Iterator[None]:
    """Close llmctl's pooled connections at the end, so no socket is left to the collector."""
    yield
    close_clients()


@pytest.fixture(scope="session")
def _server() -> Iterator[Backend]:
    fake = FakeServer()
    with LoopbackServer(fake.app()) as server:
        yield Backend(fake, server.url)


@pytest.fixture
def backend(_server: Backend, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """The fake server with its record cleared, no key asked, and no address in the env."""
    _server.fake.requests.clear()
    _server.fake.api_key = None
    for name in ("OPENAI_COMPATIBLE", "HOSTED_VLLM", "MY_VLLM"):
        monkeypatch.delenv(f"{name}_API_BASE", raising=False)
        monkeypatch.delenv(f"{name}_API_KEY", raising=False)
    return _server
