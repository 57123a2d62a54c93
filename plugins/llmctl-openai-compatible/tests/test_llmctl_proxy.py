"""llmctl calling llmctl: the plugin against a real ``llmctl serve`` process as its backend."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import llmctl
import pytest

from llmctl_openai_compatible import OpenAICompatibleLLM
from llmctl_serve import LlmctlServe

KEY = "sk-llmctl-proxy-test"  # the master_key of tests/proxy/config.yaml
HELLO = [{"role": "user", "content": "hello from the other side"}]


@pytest.fixture(scope="module")
def proxy() -> Iterator[LlmctlServe]:
    server = LlmctlServe(Path(__file__).parent / "proxy" / "config.yaml").start()
    yield server
    server.stop()


@pytest.fixture
def call(proxy: LlmctlServe) -> dict[str, Any]:
    """The keywords that point a call at the proxy."""
    return {"api_base": proxy.url, "api_key": KEY, "timeout": 10}


def test_completion(call: dict[str, Any]) -> None:
    response = llmctl.completion("openai_compatible/echo", HELLO, **call)
    assert response.choices[0].message.content == "hello from the other side"
    assert response.choices[0].finish_reason == "stop"
    assert response.model == "echo"
    usage = response.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (5, 5, 10)


def test_acompletion_through_the_v1_address(call: dict[str, Any]) -> None:
    call["api_base"] += "/v1"
    response = asyncio.run(llmctl.acompletion("hosted_vllm/echo", HELLO, **call))
    assert response.choices[0].message.content == "hello from the other side"
    assert response.usage.total_tokens == 10


def test_streaming(call: dict[str, Any]) -> None:
    chunks = list(llmctl.completion("openai_compatible/echo", HELLO, stream=True, **call))
    assert [c.choices[0].delta.content for c in chunks] == [
        "hello",
        " from",
        " the",
        " other",
        " side",
        None,
    ]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 10


def test_astreaming_with_include_usage(call: dict[str, Any]) -> None:
    async def read() -> list[llmctl.ModelResponseStream]:
        stream = await llmctl.acompletion(
            "openai_compatible/echo",
            HELLO,
            stream=True,
            stream_options={"include_usage": True},
            **call,
        )
        return [chunk async for chunk in stream]

    chunks = asyncio.run(read())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "hello from the other side"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (5, 5)


def test_params_of_the_call_and_of_the_proxys_config_reach_its_handler(
    call: dict[str, Any],
) -> None:
    response = llmctl.completion(
        "openai_compatible/params", HELLO, temperature=0.5, repetition_penalty=1.1, **call
    )
    received = json.loads(response.choices[0].message.content or "")
    assert {"temperature", "repetition_penalty", "top_k"} <= set(received)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_embeddings(call: dict[str, Any], kind: str) -> None:
    if kind == "sync":
        response = llmctl.embedding("openai_compatible/embed", ["ab", "abc"], **call)
    else:
        response = asyncio.run(llmctl.aembedding("openai_compatible/embed", ["ab", "abc"], **call))
    assert [item.embedding for item in response.data] == [[2.0, 1.0], [3.0, 1.0]]
    assert response.usage.prompt_tokens == 2


@pytest.mark.parametrize("stream", [False, True])
def test_an_unknown_model_is_not_found_with_the_proxys_message(
    call: dict[str, Any], stream: bool
) -> None:
    with pytest.raises(llmctl.NotFoundError) as info:
        llmctl.completion("openai_compatible/ech", HELLO, stream=stream, **call)
    message = str(info.value)
    assert "the model 'ech' does not exist on this server" in message
    assert "did you mean 'echo'?" in message


def test_a_wrong_key_is_an_authentication_error(call: dict[str, Any]) -> None:
    with pytest.raises(llmctl.AuthenticationError, match="answered HTTP 401"):
        llmctl.completion("openai_compatible/echo", HELLO, **{**call, "api_key": "sk-wrong"})


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_error_mid_stream_reaches_the_caller_with_its_class_and_message(
    call: dict[str, Any], kind: str
) -> None:
    received: list[str] = []

    async def aread() -> None:
        stream = await llmctl.acompletion("openai_compatible/flaky", HELLO, stream=True, **call)
        async for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")

    with pytest.raises(llmctl.RateLimitError) as info:
        if kind == "sync":
            for chunk in llmctl.completion("openai_compatible/flaky", HELLO, stream=True, **call):
                received.append(chunk.choices[0].delta.content or "")
        else:
            asyncio.run(aread())
    assert received == ["hello"]
    assert "sent an error in the middle of the stream" in str(info.value)
    assert "the echo ran out of quota mid-stream" in str(info.value)


def test_health_check_lists_the_proxys_models(proxy: LlmctlServe) -> None:
    answer = OpenAICompatibleLLM().health_check(api_base=proxy.url, api_key=KEY, timeout=5)
    assert answer == {"status": "ok", "models": ["echo", "flaky", "params", "embed"]}
