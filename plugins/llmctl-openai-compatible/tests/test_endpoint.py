"""Where a call goes: the address with or without /v1, the key, and the environment."""

from __future__ import annotations

import asyncio

import llmctl
import pytest

from conftest import KEY, Backend

HI = [{"role": "user", "content": "hi there"}]


@pytest.mark.parametrize(
    "suffix",
    [
        pytest.param("", id="bare-host"),
        pytest.param("/", id="bare-host-slash"),
        pytest.param("/v1", id="with-v1"),
        pytest.param("/v1/", id="with-v1-slash"),
    ],
)
def test_api_base_is_accepted_with_or_without_v1(backend: Backend, suffix: str) -> None:
    response = llmctl.completion("openai_compatible/echo", HI, api_base=backend.url + suffix)
    assert response.choices[0].message.content == "hi there"
    assert backend.last.path == "/v1/chat/completions"


def test_an_api_base_with_a_path_is_used_as_it_is(backend: Backend) -> None:
    with pytest.raises(llmctl.NotFoundError, match=r"POST http://127\.0\.0\.1:\d+/api/chat/c"):
        llmctl.completion("openai_compatible/echo", HI, api_base=backend.url + "/api")


def test_api_key_is_sent_as_a_bearer_token(backend: Backend) -> None:
    backend.fake.api_key = KEY
    llmctl.completion("openai_compatible/echo", HI, api_base=backend.url, api_key=KEY)
    assert backend.last.headers["authorization"] == f"Bearer {KEY}"


def test_no_api_key_sends_no_authorization_header(backend: Backend) -> None:
    llmctl.completion("openai_compatible/echo", HI, api_base=backend.url)
    assert "authorization" not in backend.last.headers


def test_a_refused_key_is_an_authentication_error_with_the_servers_message(
    backend: Backend,
) -> None:
    backend.fake.api_key = KEY
    with pytest.raises(llmctl.AuthenticationError, match=r"answered HTTP 401 .*: Unauthorized"):
        llmctl.completion("openai_compatible/echo", HI, api_base=backend.url, api_key="sk-wrong")


def test_call_headers_are_sent(backend: Backend) -> None:
    llmctl.completion(
        "openai_compatible/echo",
        HI,
        api_base=backend.url,
        headers={"X-Tenant": "a"},
        extra_headers={"X-Trace": "b"},
    )
    assert (backend.last.headers["x-tenant"], backend.last.headers["x-trace"]) == ("a", "b")


@pytest.mark.parametrize(
    ("provider", "variable"),
    [
        pytest.param("openai_compatible", "OPENAI_COMPATIBLE", id="openai_compatible"),
        pytest.param("hosted_vllm", "HOSTED_VLLM", id="hosted_vllm"),
    ],
)
def test_each_name_reads_its_own_environment_variables(
    backend: Backend, monkeypatch: pytest.MonkeyPatch, provider: str, variable: str
) -> None:
    backend.fake.api_key = KEY
    monkeypatch.setenv(f"{variable}_API_BASE", backend.url + "/v1")
    monkeypatch.setenv(f"{variable}_API_KEY", KEY)
    response = llmctl.completion(f"{provider}/echo", HI)
    assert response.choices[0].message.content == "hi there"
    embedded = asyncio.run(llmctl.aembedding(f"{provider}/embed", "hi"))
    assert len(embedded.data) == 1
    assert backend.last.headers["authorization"] == f"Bearer {KEY}"


def test_one_names_variables_do_not_serve_the_other(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOSTED_VLLM_API_BASE", backend.url)
    with pytest.raises(llmctl.BadRequestError, match="set OPENAI_COMPATIBLE_API_BASE"):
        llmctl.completion("openai_compatible/echo", HI)


def test_the_call_beats_the_environment(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_BASE", "http://127.0.0.1:9")
    llmctl.completion("openai_compatible/echo", HI, api_base=backend.url)
    assert backend.last.path == "/v1/chat/completions"


def test_a_name_of_its_own_in_custom_provider_map_reads_its_own_variables(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmctl_openai_compatible import OpenAICompatibleLLM

    monkeypatch.setenv("MY_VLLM_API_BASE", backend.url)
    monkeypatch.setattr(
        llmctl,
        "custom_provider_map",
        [{"provider": "my-vllm", "custom_handler": OpenAICompatibleLLM()}],
    )
    assert llmctl.completion("my-vllm/echo", HI).choices[0].message.content == "hi there"


def test_no_address_anywhere_says_how_to_give_one(backend: Backend) -> None:
    with pytest.raises(llmctl.BadRequestError) as info:
        llmctl.completion("hosted_vllm/echo", HI)
    assert "pass api_base='http://host:port'" in str(info.value)
    assert "set HOSTED_VLLM_API_BASE" in str(info.value)
