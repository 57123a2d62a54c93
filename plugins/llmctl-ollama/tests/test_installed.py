"""The installed plugin as users meet it: ``llmctl providers`` and ``llmctl serve`` with it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fake_ollama import KEY, FakeOllama

CHAT_OPERATIONS = ["completion", "acompletion", "streaming", "astreaming"]


def llmctl_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLLAMA_")}
    return subprocess.run(
        [sys.executable, "-m", "llmctl", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_providers_list_shows_both_names_with_chat_and_embeddings() -> None:
    result = llmctl_cli("providers", "list", "--json", "--check")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    for name in ("ollama", "ollama_chat"):
        assert rows[name]["distribution"] == "llmctl-ollama"
        assert (rows[name]["status"], rows[name]["error"]) == ("ok", None)
        assert rows[name]["operations"] == [*CHAT_OPERATIONS, "embedding", "aembedding"]


def test_providers_check_asks_the_server_for_its_models(fake: FakeOllama, api_base: str) -> None:
    result = llmctl_cli("providers", "check", "ollama", "--json", "--api-base", api_base)
    assert result.returncode == 0, result.stderr
    [report] = json.loads(result.stdout)
    assert (report["status"], report["answer"]) == (
        "ok",
        {"status": "ok", "models": ["llama3.2:latest", "embeddinggemma:latest"]},
    )


def test_providers_check_fails_when_the_server_is_down(closed_port_base: str) -> None:
    result = llmctl_cli(
        "providers", "check", "ollama", "--json", "--api-base", closed_port_base, "--timeout", "5"
    )
    assert result.returncode == 1
    [report] = json.loads(result.stdout)
    assert report["status"] == "failed"
    assert "APIConnectionError" in report["error"] and closed_port_base in report["error"]


# -- llmctl serve with the docs' config --------------------------------------------------------

CONFIG = """\
model_list:
  - model_name: llama
    litellm_params:
      model: ollama/llama3.2
      api_base: {api_base}
      api_key: os.environ/OLLAMA_API_KEY
      num_ctx: 8192
      keep_alive: 10m
  - model_name: embedder
    litellm_params:
      model: ollama/embeddinggemma
      api_base: {api_base}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def proxy(api_base: str, tmp_path: Path) -> Iterator[str]:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(api_base=api_base))
    port = free_port()
    env = {**os.environ, "OLLAMA_API_KEY": KEY}
    process = subprocess.Popen(
        [sys.executable, "-m", "llmctl", "serve", "-c", str(config), "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/health/liveliness", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"llmctl serve did not start: {process.stderr.read()!r}"  # type: ignore[union-attr]
                    ) from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()


def test_llmctl_serve_answers_and_streams_through_ollama(fake: FakeOllama, proxy: str) -> None:
    body = {"model": "llama", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 9}
    answer = httpx.post(f"{proxy}/v1/chat/completions", json=body, timeout=10).json()
    assert answer["choices"][0]["message"]["content"] == "You said: hi"
    assert fake.last["options"] == {"num_ctx": 8192, "num_predict": 9}
    assert fake.last["keep_alive"] == "10m"
    assert fake.requests[-1]["headers"]["authorization"] == f"Bearer {KEY}"

    events = []
    with httpx.stream(
        "POST", f"{proxy}/v1/chat/completions", json={**body, "stream": True}, timeout=10
    ) as response:
        events = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(event.removeprefix("data: ")) for event in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "You said: hi"

    embedded = httpx.post(
        f"{proxy}/v1/embeddings", json={"model": "embedder", "input": "abc"}, timeout=10
    ).json()
    assert embedded["data"][0]["embedding"] == [0.3, 0.4, 0.5]
