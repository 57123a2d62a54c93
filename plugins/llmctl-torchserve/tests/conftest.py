from __future__ import annotations

from collections.abc import Iterator

import pytest
from llmctl.http import close_clients
from llmctl.testserver import LoopbackServer

from fake_torchserve import FakeTorchServe, Recorded

KEY = "poZXAlqe"  # an inference key, as TorchServe's key_file.json holds one


class Backend:
    """The fake TorchServe running on 127.0.0.1, and what it received."""

    def __init__(self, fake: FakeTorchServe, url: str) -> None:
        self.fake = fake
        self.url = url

    @property
    def requests(self) -> list[Recorded]:
        return self.fake.requests

    @property
    def last(self) -> Recorded:
        return self.fake.last


@pytest.fixture(scope="session")
def _server() -> Iterator[Backend]:
    fake = FakeTorchServe()
    with LoopbackServer(fake.app()) as server:
        yield Backend(fake, server.url)
    close_clients()


@pytest.fixture
def backend(_server: Backend, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """The fake with its record cleared, healthy, no key asked, and nothing in the env."""
    _server.fake.requests.clear()
    _server.fake.key = None
    _server.fake.health = (200, "Healthy")
    monkeypatch.delenv("TORCHSERVE_API_BASE", raising=False)
    monkeypatch.delenv("TORCHSERVE_API_KEY", raising=False)
    return _server
