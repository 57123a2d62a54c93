"""``llmctl serve`` with the descriptions in its config.yaml, in front of the fake Acme API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import fake_acme
from conftest import Backend

KEY = "acme-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def proxy(_server: Backend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``llmctl serve`` on 127.0.0.1 with two models described in its config (JSON is YAML)."""
    entry = {"model": "http/acme-1", "api_base": _server.url}
    config = {
        "model_list": [
            {
                "model_name": "acme-chat",
                "litellm_params": {
                    **entry,
                    "api_key": "os.environ/ACME_KEY",
                    "initial_prompt_value": "<s>",
                    "roles": {"user": {"pre_message": "[INST] ", "post_message": " [/INST]"}},
                    "http": fake_acme.NDJSON,
                },
            },
            {"model_name": "acme-sse", "litellm_params": {**entry, "http": fake_acme.SSE}},
        ]
    }
    path = tmp_path_factory.mktemp("proxy") / "config.yaml"
    path.write_text(json.dumps(config))
    port = free_port()
    command = [sys.executable, "-m", "llmctl", "serve", "-c", str(path), "-p", str(port)]
    env = {**os.environ, "ACME_KEY": KEY}
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) as server:
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, server)
            yield url
        finally:
            server.terminate()
            server.wait(10)


def wait_until_up(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"llmctl serve exited: {server.stderr.read() if server.stderr else ''}"
            )
        try:
            httpx.get(f"{url}/health/liveness", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("llmctl serve did not start in 20 s")


def chat(proxy: str, **body: Any) -> httpx.Response:
    messages = [{"role": "user", "content": "hi"}]
    return httpx.post(
        f"{proxy}/v1/chat/completions", json={"messages": messages, **body}, timeout=10
    )


def test_a_configured_model_is_called_as_its_description_says(proxy: str, backend: Backend) -> None:
    response = chat(proxy, model="acme-chat", max_tokens=2)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["choices"][0]["message"]["content"] == "hello from"
    assert answer["choices"][0]["finish_reason"] == "length"
    request = backend.last
    assert request.body == {"input": "<s>[INST] hi [/INST]", "params": {"max_len": 2}}
    assert request.headers["x-api-key"] == KEY  # os.environ/ACME_KEY


def test_a_configured_model_streams_through_the_proxy(proxy: str, backend: Backend) -> None:
    response = chat(proxy, model="acme-sse", stream=True, max_tokens=3)
    assert response.status_code == 200, response.text
    events = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "hello from the"
    assert backend.last.body == {
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 3,
        "stream": True,
    }


def test_a_client_cannot_replace_the_configured_description(proxy: str, backend: Backend) -> None:
    response = chat(proxy, model="acme-chat", http={"path": "/admin", "response": {"text": "t"}})
    assert response.status_code == 400
    assert "set in config.yaml; a call cannot replace it" in response.json()["error"]["message"]
    assert backend.requests == []


def test_a_configured_model_embeds_through_the_proxy(proxy: str, backend: Backend) -> None:
    response = httpx.post(
        f"{proxy}/v1/embeddings", json={"model": "acme-chat", "input": ["ab"]}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"][0]["embedding"] == [2.0, 1.0, 0.5]
    assert backend.last.body == {"texts": ["ab"]}


def test_health_checks_each_model_against_its_own_description(proxy: str) -> None:
    body = httpx.get(f"{proxy}/health", timeout=10).json()
    (healthy,) = body["healthy_endpoints"]
    assert healthy["models"] == ["acme-chat"]
    assert healthy["answer"]["answer"] == {"status": "up"}
    (unchecked,) = body["unchecked_endpoints"]
    assert unchecked["models"] == ["acme-sse"]
    assert "no health request" in unchecked["error"]
    assert body["unhealthy_endpoints"] == []
