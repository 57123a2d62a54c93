"""Streamed chat: the SSE framing, text, tool call fragments, usage, and failures mid-stream."""

from __future__ import annotations

import asyncio
from typing import Any

import llmctl
import pytest
from llmctl.http import Endpoint

from conftest import Backend
from fake_openai import ID, TOOL_ARGUMENTS, TOOL_CALL_ID
from llmctl_openai_compatible.stream import stream_chunks

HELLO = [{"role": "user", "content": "hello there general kenobi"}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
KINDS = [pytest.param("sync", id="sync"), pytest.param("async", id="async")]


def stream(backend: Backend, kind: str, **kwargs: Any) -> list[llmctl.ModelResponseStream]:
    kwargs = {
        "model": "openai_compatible/echo",
        "messages": HELLO,
        "api_base": backend.url,
        **kwargs,
    }
    if kind == "sync":
        return list(llmctl.completion(stream=True, **kwargs))

    async def read() -> list[llmctl.ModelResponseStream]:
        chunks = await llmctl.acompletion(stream=True, **kwargs)
        return [chunk async for chunk in chunks]

    return asyncio.run(read())


def text(chunks: list[llmctl.ModelResponseStream]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


@pytest.mark.parametrize("kind", KINDS)
def test_the_stream_asks_for_usage_and_sends_the_params(backend: Backend, kind: str) -> None:
    stream(backend, kind, temperature=0.5, top_k=3)
    body = backend.last.body
    assert (body["stream"], body["stream_options"]) == (True, {"include_usage": True})
    assert (body["temperature"], body["top_k"]) == (0.5, 3)


def test_stream_options_of_the_caller_are_kept(backend: Backend) -> None:
    stream(backend, "sync", stream_options={"include_usage": False, "continuous_usage_stats": True})
    assert backend.last.body["stream_options"] == {
        "include_usage": True,
        "continuous_usage_stats": True,
    }


@pytest.mark.parametrize("kind", KINDS)
def test_text_arrives_a_chunk_per_event_with_finish_and_usage_last(
    backend: Backend, kind: str
) -> None:
    chunks = stream(backend, kind)
    assert [c.choices[0].delta.content for c in chunks] == [
        "hello",
        " there",
        " general",
        " kenobi",
        None,
    ]
    assert {c.id for c in chunks} == {ID}
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    usage = chunks[-1].usage
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (4, 4)


@pytest.mark.parametrize("kind", KINDS)
def test_include_usage_gives_usage_in_a_chunk_of_its_own(backend: Backend, kind: str) -> None:
    chunks = stream(backend, kind, stream_options={"include_usage": True})
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == 8


def test_max_tokens_finishes_with_length(backend: Backend) -> None:
    chunks = stream(backend, "sync", max_tokens=2)
    assert text(chunks) == "hello there" and chunks[-1].choices[0].finish_reason == "length"


@pytest.mark.parametrize("kind", KINDS)
def test_tool_call_fragments_arrive_as_delta_tool_calls(backend: Backend, kind: str) -> None:
    chunks = stream(backend, kind, tools=TOOLS)
    calls = [
        c.choices[0].delta.tool_calls for c in chunks if c.choices and c.choices[0].delta.tool_calls
    ]
    assert [
        (t[0].index, t[0].id, t[0].function.name if t[0].function else None) for t in calls
    ] == [
        (0, TOOL_CALL_ID, "get_weather"),
        (0, None, None),
        (0, None, None),
    ]
    whole = llmctl.stream_chunk_builder(chunks)
    [call] = whole.choices[0].message.tool_calls or []
    assert (call.id, call.function.name) == (TOOL_CALL_ID, "get_weather")
    assert call.function.arguments == "".join(TOOL_ARGUMENTS)
    assert whole.choices[0].finish_reason == "tool_calls"


# -- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_an_error_status_fails_the_call_before_any_chunk(backend: Backend, kind: str) -> None:
    kwargs = {"model": "openai_compatible/echo", "messages": HELLO, "api_base": backend.url}
    with pytest.raises(llmctl.RateLimitError, match="failing with 429, as asked") as info:
        if kind == "sync":
            llmctl.completion(stream=True, fake_status=429, **kwargs)
        else:
            asyncio.run(llmctl.acompletion(stream=True, fake_status=429, **kwargs))
    assert info.value.retry_after == 7


@pytest.mark.parametrize("kind", KINDS)
def test_an_error_event_mid_stream_raises_its_class_with_the_servers_message(
    backend: Backend, kind: str
) -> None:
    with pytest.raises(llmctl.InternalServerError) as info:
        stream(backend, kind, fake_stream="error")
    assert "sent an error in the middle of the stream" in str(info.value)
    assert "the engine died, as asked" in str(info.value)


@pytest.mark.parametrize("kind", KINDS)
def test_a_dropped_connection_mid_stream_is_a_connection_error(backend: Backend, kind: str) -> None:
    with pytest.raises(llmctl.APIConnectionError, match="broke the connection"):
        stream(backend, kind, fake_stream="drop")


@pytest.mark.parametrize("kind", KINDS)
def test_a_stream_without_done_is_incomplete_not_finished(backend: Backend, kind: str) -> None:
    with pytest.raises(llmctl.BadGatewayError, match=r"before its '\[DONE\]' event"):
        stream(backend, kind, fake_stream="no-done")


def test_an_event_that_is_not_json_is_a_bad_gateway(backend: Backend) -> None:
    with pytest.raises(llmctl.BadGatewayError, match=r"that is not JSON: \{not json"):
        stream(backend, "sync", fake_stream="garbage")


@pytest.mark.parametrize("kind", KINDS)
def test_a_server_silent_mid_stream_times_out(backend: Backend, kind: str) -> None:
    with pytest.raises(llmctl.Timeout, match="did not answer in time"):
        stream(backend, kind, fake_stream="pause", timeout=0.2)


# -- events as the plugin reads them ----------------------------------------------------------

SERVER = Endpoint(provider="openai_compatible", base_url="http://server/v1", model="m")


@pytest.mark.parametrize(
    ("error", "error_class"),
    [
        pytest.param({"message": "m", "code": 400}, llmctl.BadRequestError, id="vllm-code"),
        pytest.param({"message": "m", "code": "429"}, llmctl.RateLimitError, id="llmctl-code"),
        pytest.param({"message": "m", "type": "not_found_error"}, llmctl.NotFoundError, id="type"),
        pytest.param({"message": "m", "code": "oops"}, llmctl.InternalServerError, id="unknown"),
        pytest.param("m", llmctl.InternalServerError, id="tgi-string"),
    ],
)
def test_error_events_map_by_code_then_type(error: Any, error_class: type[Exception]) -> None:
    with pytest.raises(error_class, match="m"):
        stream_chunks({"error": error}, SERVER)


def test_parallel_tool_calls_in_one_event_become_one_chunk_each() -> None:
    calls = [{"index": 0, "id": "a"}, {"index": 1, "id": "b"}]
    chunks = stream_chunks({"choices": [{"index": 0, "delta": {"tool_calls": calls}}]}, SERVER)
    assert [c["tool_use"] for c in chunks] == calls


def test_each_choice_of_an_event_is_a_chunk_of_its_index() -> None:
    event = {
        "id": "x",
        "choices": [
            {"index": 0, "delta": {"content": "a"}, "finish_reason": None},
            {"index": 1, "delta": {"reasoning": "hm"}, "finish_reason": "stop", "logprobs": {}},
        ],
    }
    first, second = stream_chunks(event, SERVER)
    assert (first["index"], first["text"], first["is_finished"]) == (0, "a", False)
    assert (second["index"], second["reasoning_content"], second["finish_reason"]) == (
        1,
        "hm",
        "stop",
    )
    assert second["logprobs"] == {}


def test_an_event_that_is_no_object_is_a_bad_gateway() -> None:
    with pytest.raises(llmctl.BadGatewayError, match=r"not a chat\.completion\.chunk object"):
        stream_chunks([1, 2], SERVER)
