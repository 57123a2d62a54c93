"""Embeddings and the health check against the fake Acme API."""

from __future__ import annotations

import asyncio
import copy
import socket
from typing import Any

import llmctl
import pytest

import fake_acme
from conftest import Backend
from llmctl_http import HttpLLM


def embed(backend: Backend, inputs: Any, description: dict[str, Any] = fake_acme.NDJSON) -> Any:
    return llmctl.embedding("http/acme-e", inputs, api_base=backend.url, http=description)


def test_the_embedding_request_sends_the_inputs_as_a_list(backend: Backend) -> None:
    response = embed(backend, ["a b", "cde"])
    assert (backend.last.path, backend.last.body) == ("/embed", {"texts": ["a b", "cde"]})
    assert [item.embedding for item in response.data] == [[3.0, 1.0, 0.5], [3.0, 1.0, 0.5]]
    assert [item.index for item in response.data] == [0, 1]
    assert (response.usage.prompt_tokens, response.usage.total_tokens) == (3, 3)
    assert response.model == "acme-e"


def test_one_string_is_one_input(backend: Backend) -> None:
    response = asyncio.run(
        llmctl.aembedding("http/acme-e", "four", api_base=backend.url, http=fake_acme.SSE)
    )
    assert backend.last.body == {"texts": ["four"]}
    assert len(response.data) == 1


def test_input_keeps_the_shape_the_caller_gave(backend: Backend) -> None:
    described = copy.deepcopy(fake_acme.NDJSON)
    described["embedding"] = {
        **described["embedding"],
        "body": {"texts": "{input}"},
        "vectors": "data.0.vector",  # one vector: the answer to one string
    }
    embed(backend, "one text", described)
    assert backend.last.body == {"texts": "one text"}


def test_vectors_that_do_not_match_the_inputs_are_a_bad_gateway(backend: Backend) -> None:
    described = copy.deepcopy(fake_acme.NDJSON)
    described["embedding"] = {**described["embedding"], "vectors": "data.0.vector"}
    with pytest.raises(
        llmctl.BadGatewayError, match=r"'data\.0\.vector' holds 1 vectors for 2 inputs"
    ):
        embed(backend, ["a", "b"], described)


def test_a_description_without_embedding_does_not_embed(backend: Backend) -> None:
    described = {key: value for key, value in fake_acme.NDJSON.items() if key != "embedding"}
    with pytest.raises(llmctl.UnsupportedOperationError, match="has no embedding request"):
        embed(backend, "x", described)
    assert backend.requests == []


def test_an_embedding_param_the_description_does_not_send_is_refused(backend: Backend) -> None:
    with pytest.raises(llmctl.UnsupportedParamsError, match=r"\{dimensions\}"):
        llmctl.embedding(
            "http/acme-e", "x", api_base=backend.url, http=fake_acme.NDJSON, dimensions=8
        )


def test_an_embedding_error_status_keeps_the_backend_s_message(backend: Backend) -> None:
    with pytest.raises(llmctl.ServiceUnavailableError, match="index is rebuilding"):
        llmctl.embedding(
            "http/acme-e",
            "x",
            api_base=backend.url,
            http=fake_acme.NDJSON,
            fail=503,
            fail_message="index is rebuilding",
        )


# -- health -----------------------------------------------------------------------------------


def test_the_health_request_of_the_description_is_sent(backend: Backend) -> None:
    report = HttpLLM().health_check(
        api_base=backend.url, timeout=2.0, litellm_params={"http": fake_acme.NDJSON}
    )
    assert report == {"status": "ok", "url": f"{backend.url}/healthz", "answer": {"status": "up"}}
    assert (backend.last.method, backend.last.path, backend.last.body) == ("GET", "/healthz", None)


def test_an_unhealthy_backend_raises_its_error(backend: Backend) -> None:
    backend.fake.api_key = "right"
    with pytest.raises(llmctl.AuthenticationError, match="bad API key"):
        HttpLLM().health_check(
            api_base=backend.url, api_key="wrong", litellm_params={"http": fake_acme.NDJSON}
        )


def test_a_backend_that_is_down_fails_the_health_check() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(llmctl.APIConnectionError, match="refused the connection"):
        HttpLLM().health_check(api_base=base, litellm_params={"http": fake_acme.NDJSON})


@pytest.mark.parametrize(
    ("litellm_params", "reason"),
    [
        pytest.param(None, "no API description to check", id="no-description"),
        pytest.param(
            {"http": fake_acme.SSE}, "the API description has no health", id="no-health-key"
        ),
    ],
)
def test_without_a_health_request_the_check_declines(
    backend: Backend, litellm_params: Any, reason: str
) -> None:
    with pytest.raises(llmctl.UnsupportedOperationError, match=reason):
        HttpLLM().health_check(api_base=backend.url, litellm_params=litellm_params)
    assert backend.requests == []
