"""Every way a call to Ollama fails reaches the caller as an llmctl error, Ollama's words kept."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import llmctl
import pytest

from fake_ollama import FakeOllama

HELLO = [{"role": "user", "content": "hello"}]


def drain_sync(**kwargs: Any) -> list[Any]:
    return list(llmctl.completion(stream=True, **kwargs))


def drain_async(**kwargs: Any) -> list[Any]:
    async def run() -> list[Any]:
        stream = await llmctl.acompletion(stream=True, **kwargs)
        return [chunk async for chunk in stream]

    return asyncio.run(run())


def complete_sync(**kwargs: Any) -> Any:
    return llmctl.completion(**kwargs)


def complete_async(**kwargs: Any) -> Any:
    return asyncio.run(llmctl.acompletion(**kwargs))


STREAMS = [pytest.param(drain_sync, id="sync"), pytest.param(drain_async, id="async")]
CALLS = [
    pytest.param(complete_sync, id="complete"),
    pytest.param(complete_async, id="acomplete"),
    *STREAMS,
]


@pytest.mark.parametrize("call", CALLS)
def test_a_missing_model_is_not_found_with_ollamas_message(
    api_base: str, call: Callable[..., Any]
) -> None:
    with pytest.raises(llmctl.NotFoundError) as info:
        call(model="ollama/missing", messages=HELLO, api_base=api_base)
    assert info.value.status_code == 404
    assert 'model "missing" not found, try pulling it first' in str(info.value)
    assert f"POST {api_base}/api/chat" in str(info.value)


def test_a_missing_embedding_model_is_not_found(api_base: str) -> None:
    with pytest.raises(llmctl.NotFoundError, match="try pulling it first"):
        llmctl.embedding("ollama/missing", "x", api_base=api_base)


def test_a_wrong_key_is_an_authentication_error(api_base: str) -> None:
    with pytest.raises(llmctl.AuthenticationError, match="unauthorized"):
        llmctl.completion("ollama/needs-key", HELLO, api_base=api_base, api_key="wrong")


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_error_line_mid_stream_raises_after_the_chunks_before_it(
    api_base: str, kind: str
) -> None:
    seen: list[llmctl.ModelResponseStream] = []
    kwargs: dict[str, Any] = {"model": "ollama/fails-mid-stream", "messages": HELLO}

    def read() -> None:
        seen.extend(llmctl.completion(stream=True, api_base=api_base, **kwargs))

    async def aread() -> None:
        stream = await llmctl.acompletion(stream=True, api_base=api_base, **kwargs)
        async for chunk in stream:
            seen.append(chunk)

    with pytest.raises(llmctl.InternalServerError) as info:
        read() if kind == "sync" else asyncio.run(aread())
    assert "reported an error in its stream: an error was encountered while running" in str(
        info.value
    )
    assert "".join(c.choices[0].delta.content or "" for c in seen) == "You said:"


@pytest.mark.parametrize("stream", STREAMS)
def test_a_connection_dropped_mid_stream_is_a_connection_error(
    api_base: str, stream: Callable[..., Any]
) -> None:
    with pytest.raises(llmctl.APIConnectionError, match="broke the connection"):
        stream(model="ollama/drops-mid-stream", messages=HELLO, api_base=api_base)


@pytest.mark.parametrize("stream", STREAMS)
def test_a_stream_ending_without_done_is_never_a_silent_end(
    api_base: str, stream: Callable[..., Any]
) -> None:
    with pytest.raises(llmctl.BadGatewayError, match="before its last object"):
        stream(model="ollama/ends-early", messages=HELLO, api_base=api_base)


@pytest.mark.parametrize("call", CALLS)
def test_a_slow_server_times_out(api_base: str, call: Callable[..., Any]) -> None:
    with pytest.raises(llmctl.Timeout, match="did not answer in time"):
        call(model="ollama/slow", messages=HELLO, api_base=api_base, timeout=0.2)


@pytest.mark.parametrize("stream", STREAMS)
def test_a_stream_that_stalls_times_out(api_base: str, stream: Callable[..., Any]) -> None:
    with pytest.raises(llmctl.Timeout):
        stream(model="ollama/slow-stream", messages=HELLO, api_base=api_base, timeout=0.2)


@pytest.mark.parametrize("call", CALLS)
def test_connection_refused_is_a_connection_error(
    closed_port_base: str, call: Callable[..., Any]
) -> None:
    with pytest.raises(llmctl.APIConnectionError) as info:
        call(model="ollama/llama3.2", messages=HELLO, api_base=closed_port_base)
    assert closed_port_base in str(info.value)


def test_a_body_that_is_not_json_is_a_bad_gateway(api_base: str) -> None:
    with pytest.raises(llmctl.BadGatewayError, match="that is not JSON: <html>"):
        llmctl.completion("ollama/not-json", HELLO, api_base=api_base)


def test_a_bad_request_keeps_ollamas_message(api_base: str) -> None:
    with pytest.raises(llmctl.BadRequestError, match="invalid think value: 'maximum'"):
        llmctl.completion("ollama/llama3.2", HELLO, api_base=api_base, think="maximum")


def test_an_openai_v1_address_is_refused_with_the_root_to_use(fake: FakeOllama) -> None:
    with pytest.raises(llmctl.BadRequestError) as info:
        llmctl.completion("ollama/llama3.2", HELLO, api_base="http://gpu-box:11434/v1")
    assert "use api_base='http://gpu-box:11434'" in str(info.value)
    assert info.value.param == "api_base"


def test_health_check_of_a_server_that_is_down_raises(closed_port_base: str) -> None:
    from llmctl_ollama import OllamaLLM

    with pytest.raises(llmctl.APIConnectionError, match="refused the connection"):
        OllamaLLM().health_check(api_base=closed_port_base, timeout=2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(
            {"response_format": {"type": "xml"}}, "response_format must be", id="response_format"
        ),
        pytest.param(
            {"response_format": {"type": "json_schema", "json_schema": {"name": "a"}}},
            "needs the schema in json_schema.schema",
            id="json_schema-without-schema",
        ),
        pytest.param(
            {"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "required"},
            "cannot force a tool call",
            id="tool_choice-required",
        ),
        pytest.param(
            {
                "tools": [{"type": "function", "function": {"name": "f"}}],
                "tool_choice": {"type": "function", "function": {"name": "g"}},
            },
            "names the function 'g', which is not among the tools",
            id="tool_choice-unknown",
        ),
        pytest.param({"reasoning_effort": "max"}, "reasoning_effort must be one of", id="effort"),
        pytest.param({"options": [1]}, "options must be a mapping", id="options"),
    ],
)
def test_params_ollama_cannot_take_are_refused_before_sending(
    fake: FakeOllama, api_base: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(llmctl.BadRequestError, match=message):
        llmctl.completion("ollama/llama3.2", HELLO, api_base=api_base, **kwargs)
    assert fake.requests == []


def test_health_check_of_a_server_that_is_not_ollama_is_a_bad_gateway(api_base: str) -> None:
    from llmctl_ollama import OllamaLLM

    # The fake answers 200 {"error": ...} under /status/200: JSON, but no model list.
    with pytest.raises(llmctl.BadGatewayError, match="so it is not an Ollama server"):
        OllamaLLM().health_check(api_base=f"{api_base}/status/200", timeout=2)
