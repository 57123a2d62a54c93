"""One fake Ollama server on 127.0.0.1 for the whole suite, its request log emptied per test."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from llmctl.testserver import LoopbackServer

from fake_ollama import FakeOllama

_FAKE = FakeOllama()


@pytest.fixture(scope="session")
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(_FAKE.app) as running:
        yield running


@pytest.fixture
def fake(server: LoopbackServer) -> Iterator[FakeOllama]:
    """The fake server, with no request recorded yet."""
    _FAKE.requests.clear()
    yield _FAKE
    _FAKE.requests.clear()


@pytest.fixture
def api_base(server: LoopbackServer) -> str:
    return server.url


@pytest.fixture
def closed_port_base() -> str:
    """The address of a port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def _no_ollama_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's OLLAMA_API_BASE / OLLAMA_API_KEY out of the tests."""
    monkeypatch.delenv("OLLAMA_API_BASE", raising=False)
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
