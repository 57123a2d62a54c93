"""Reaching TorchServe: address, token authorization, errors, timeouts, and /ping."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from typing import Any

import httpx
import llmctl
import pytest

from conftest import KEY, Backend
from fake_torchserve import ANSWER, TOKEN_FAILED
from llmctl_torchserve import TorchServeLLM

MESSAGES = [{"role": "user", "content": "Hi"}]


def complete(model: str = "torchserve/llama", **kwargs: Any) -> str | None:
    return llmctl.completion(model, MESSAGES, **kwargs).choices[0].message.content


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- where, and with which key ----------------------------------------------------------------


def test_api_base_and_api_key_come_from_the_environment(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend.fake.key = KEY
    monkeypatch.setenv("TORCHSERVE_API_BASE", backend.url)
    monkeypatch.setenv("TORCHSERVE_API_KEY", KEY)
    assert complete() == ANSWER
    assert backend.last.headers["authorization"] == f"Bearer {KEY}"


def test_the_calls_own_api_key_wins_over_the_environment(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend.fake.key = KEY
    monkeypatch.setenv("TORCHSERVE_API_KEY", "expired")
    assert complete(api_base=backend.url, api_key=KEY) == ANSWER


def test_without_an_address_it_calls_localhost_8080() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, text="hi")

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        assert complete("torchserve/llama/1.0", client=client) == "hi"
    assert seen == ["http://localhost:8080/predictions/llama/1.0"]


@pytest.mark.parametrize("key", [pytest.param(None, id="missing"), pytest.param("x", id="wrong")])
def test_a_refused_token_is_an_authentication_error_saying_where_the_key_is(
    backend: Backend, key: str | None
) -> None:
    backend.fake.key = KEY
    with pytest.raises(llmctl.AuthenticationError) as info:
        complete(api_base=backend.url, api_key=key)
    assert info.value.status_code == 401
    assert TOKEN_FAILED in info.value.message
    assert "key_file.json" in info.value.message and "TORCHSERVE_API_KEY" in info.value.message


# -- errors -----------------------------------------------------------------------------------


def test_an_unknown_model_is_not_found_with_torchserves_message(backend: Backend) -> None:
    with pytest.raises(llmctl.NotFoundError, match="Model not found: mistral"):
        complete("torchserve/mistral", api_base=backend.url)


def test_an_unknown_version_is_not_found_with_torchserves_message(backend: Backend) -> None:
    with pytest.raises(
        llmctl.NotFoundError, match=r"Model version: 9\.9 does not exist for model: llama"
    ):
        complete("torchserve/llama/9.9", api_base=backend.url)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        pytest.param(400, llmctl.BadRequestError, id="400"),
        pytest.param(408, llmctl.Timeout, id="408"),
        pytest.param(429, llmctl.RateLimitError, id="429"),
        pytest.param(500, llmctl.InternalServerError, id="500"),
        pytest.param(503, llmctl.ServiceUnavailableError, id="503"),
        pytest.param(507, llmctl.InternalServerError, id="507"),
    ],
)
def test_a_handler_failure_keeps_its_status_and_message(
    backend: Backend, status: int, error_class: type[llmctl.LLMCtlError]
) -> None:
    with pytest.raises(error_class) as info:
        asyncio.run(
            llmctl.acompletion(
                "torchserve/llama", MESSAGES, api_base=backend.url, fake_status=status
            )
        )
    assert info.value.status_code == status
    assert f"the handler failed with {status}" in info.value.message


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_slow_backend_is_a_timeout(backend: Backend, kind: str) -> None:
    kwargs: dict[str, Any] = {"api_base": backend.url, "timeout": 0.2, "fake_delay": 1.0}
    with pytest.raises(llmctl.Timeout, match="did not answer in time"):
        if kind == "sync":
            complete(**kwargs)
        else:
            asyncio.run(llmctl.acompletion("torchserve/llama", MESSAGES, **kwargs))


def test_a_refused_connection_is_an_api_connection_error_naming_the_address() -> None:
    base = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(llmctl.APIConnectionError, match="refused the connection") as info:
        complete(api_base=base)
    assert base in info.value.message


# -- health -----------------------------------------------------------------------------------


def test_health_check_pings_with_the_key(backend: Backend) -> None:
    backend.fake.key = KEY
    answer = TorchServeLLM().health_check(api_base=backend.url, api_key=KEY, timeout=2)
    assert answer == {"status": "Healthy"}
    assert (backend.last.method, backend.last.path) == ("GET", "/ping")
    assert backend.last.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize(
    ("health", "error_class", "message"),
    [
        pytest.param((500, "Unhealthy"), llmctl.InternalServerError, "Unhealthy", id="500"),
        pytest.param(
            (200, "Partial Healthy"), llmctl.ServiceUnavailableError, "minWorkers", id="partial"
        ),
    ],
)
def test_health_check_fails_unless_torchserve_is_healthy(
    backend: Backend,
    health: tuple[int, str],
    error_class: type[llmctl.LLMCtlError],
    message: str,
) -> None:
    backend.fake.health = health
    with pytest.raises(error_class, match=message):
        TorchServeLLM().health_check(api_base=backend.url, timeout=2)


def test_llmctl_providers_check_reports_the_ping(backend: Backend) -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "llmctl", "providers", "check", "torchserve", "--json"),
            *("--api-base", backend.url, "--timeout", "5"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [report] = json.loads(result.stdout)
    assert (report["status"], report["answer"]) == ("ok", {"status": "Healthy"})
