"""Embeddings, images, the health check, and failures of the transport, through llmctl."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import subprocess
import sys
from typing import Any

import httpx
import llmctl
import pytest

from conftest import Backend
from fake_openai import CREATED, MODELS, PNG
from llmctl_openai_compatible import OpenAICompatibleLLM

HELLO = [{"role": "user", "content": "hello"}]


# -- embeddings -------------------------------------------------------------------------------


def test_embeddings_send_the_input_and_params_and_keep_the_answer(backend: Backend) -> None:
    response = llmctl.embedding(
        "openai_compatible/embed", ["a b", "c"], api_base=backend.url, dimensions=3, user="u"
    )
    assert backend.last.path == "/v1/embeddings"
    assert backend.last.body == {
        "model": "embed",
        "input": ["a b", "c"],
        "dimensions": 3,
        "user": "u",
    }
    assert [len(item.embedding) for item in response.data] == [3, 3]
    assert [item.index for item in response.data] == [0, 1]
    assert response.model == "embed"
    assert (response.usage.prompt_tokens, response.usage.total_tokens) == (3, 3)


def test_base64_embeddings_are_kept_as_the_server_encoded_them(backend: Backend) -> None:
    floats = llmctl.embedding("openai_compatible/embed", "x", api_base=backend.url)
    encoded = asyncio.run(
        llmctl.aembedding(
            "openai_compatible/embed", "x", api_base=backend.url, encoding_format="base64"
        )
    )
    raw = base64.b64decode(encoded.data[0].embedding)  # type: ignore[arg-type]
    assert struct.unpack("<4f", raw) == pytest.approx(floats.data[0].embedding)


def test_embedding_errors_keep_the_servers_message(backend: Backend) -> None:
    with pytest.raises(llmctl.NotFoundError, match="The model `nope` does not exist"):
        llmctl.embedding("openai_compatible/nope", "x", api_base=backend.url)


# -- images -----------------------------------------------------------------------------------


def test_images_send_the_prompt_and_params_and_keep_the_answer(backend: Backend) -> None:
    response = llmctl.image_generation(
        "a cat", "openai_compatible/image", api_base=backend.url, n=2, size="256x256"
    )
    assert backend.last.path == "/v1/images/generations"
    assert backend.last.body == {"model": "image", "prompt": "a cat", "n": 2, "size": "256x256"}
    assert response.created == CREATED
    assert [(item.b64_json, item.revised_prompt) for item in response.data] == [(PNG, "a cat")] * 2


def test_image_urls_are_kept(backend: Backend) -> None:
    response = asyncio.run(
        llmctl.aimage_generation(
            "a cat", "openai_compatible/image", api_base=backend.url, response_format="url"
        )
    )
    assert response.data[0].url == "https://images.example/0.png"


def test_images_read_the_environment_of_the_name_that_is_set(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOSTED_VLLM_API_BASE", backend.url)
    response = llmctl.image_generation("a cat", "hosted_vllm/image")
    assert len(response.data) == 1


# -- health check -----------------------------------------------------------------------------


def test_health_check_lists_the_servers_models(backend: Backend) -> None:
    answer = OpenAICompatibleLLM().health_check(api_base=backend.url, timeout=2)
    assert answer == {"status": "ok", "models": list(MODELS)}
    assert (backend.last.method, backend.last.path) == ("GET", "/v1/models")


def test_health_check_of_a_server_that_is_down_raises() -> None:
    with pytest.raises(llmctl.APIConnectionError, match="refused the connection"):
        OpenAICompatibleLLM().health_check(api_base=f"http://127.0.0.1:{free_port()}", timeout=2)


def test_providers_check_runs_the_health_check(backend: Backend) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "llmctl", "providers", "check", "hosted_vllm", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HOSTED_VLLM_API_BASE": backend.url},
    )
    assert result.returncode == 0, result.stderr
    [report] = json.loads(result.stdout)
    assert (report["status"], report["answer"]) == ("ok", {"status": "ok", "models": list(MODELS)})


# -- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        pytest.param(400, llmctl.BadRequestError, id="400"),
        pytest.param(404, llmctl.NotFoundError, id="404"),
        pytest.param(429, llmctl.RateLimitError, id="429"),
        pytest.param(500, llmctl.InternalServerError, id="500"),
        pytest.param(503, llmctl.ServiceUnavailableError, id="503"),
    ],
)
def test_error_statuses_keep_their_class_and_the_servers_message(
    backend: Backend, status: int, error_class: type[llmctl.LLMCtlError]
) -> None:
    with pytest.raises(error_class) as info:
        llmctl.completion("openai_compatible/echo", HELLO, api_base=backend.url, fake_status=status)
    assert info.value.status_code == status
    assert f"failing with {status}, as asked" in str(info.value)


def test_a_context_length_error_is_a_context_window_error(backend: Backend) -> None:
    long = [{"role": "user", "content": "x"}]
    with pytest.raises(llmctl.ContextWindowExceededError):
        llmctl.completion(
            "openai_compatible/echo",
            long,
            api_base=backend.url,
            fake_status=400,
            fake_message="This model's maximum context length is 4096 tokens.",
        )


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_slow_server_times_out(backend: Backend, kind: str) -> None:
    kwargs: dict[str, Any] = {"api_base": backend.url, "timeout": 0.2, "fake_delay": 1}
    with pytest.raises(llmctl.Timeout, match="did not answer in time"):
        if kind == "sync":
            llmctl.completion("openai_compatible/echo", HELLO, **kwargs)
        else:
            asyncio.run(llmctl.acompletion("openai_compatible/echo", HELLO, **kwargs))


@pytest.mark.parametrize("stream", [False, True])
def test_a_refused_connection_is_a_connection_error(stream: bool) -> None:
    base = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(llmctl.APIConnectionError, match=f"{base}/v1 refused the connection"):
        llmctl.completion("openai_compatible/echo", HELLO, api_base=base, stream=stream)


def test_a_body_that_is_no_chat_completion_is_a_bad_gateway() -> None:
    def app(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"hello": "world"})

    with (
        httpx.Client(transport=httpx.MockTransport(app)) as client,
        pytest.raises(llmctl.BadGatewayError, match="that is not a 'choices' list"),
    ):
        llmctl.completion("openai_compatible/echo", HELLO, api_base="http://server", client=client)


def test_a_callers_own_httpx_client_is_used(backend: Backend) -> None:
    seen: list[str] = []
    hooks = {"request": [lambda request: seen.append(str(request.url))]}
    with httpx.Client(event_hooks=hooks) as client:
        llmctl.completion("openai_compatible/echo", HELLO, api_base=backend.url, client=client)
    assert seen == [f"{backend.url}/v1/chat/completions"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
