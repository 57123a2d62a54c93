"""What the ``ollama`` provider sends and answers, over HTTP to the fake Ollama server."""

from __future__ import annotations

import asyncio
import base64
import json
import struct
from typing import Any

import llmctl
import pytest

from fake_ollama import KEY, FakeOllama

HELLO = [{"role": "user", "content": "hello there"}]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def text_of(chunks: list[llmctl.ModelResponseStream]) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


async def astream(**kwargs: Any) -> list[llmctl.ModelResponseStream]:
    stream = await llmctl.acompletion(stream=True, **kwargs)
    return [chunk async for chunk in stream]


# -- the request -------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["complete", "stream"])
def test_chat_posts_model_messages_and_stream_flag(
    fake: FakeOllama, api_base: str, stream: bool
) -> None:
    answer = llmctl.completion("ollama/llama3.2", HELLO, api_base=api_base, stream=stream)
    if stream:
        list(answer)
    assert fake.requests[-1]["path"] == "/api/chat"
    assert fake.last == {"model": "llama3.2", "messages": HELLO, "stream": stream}


def test_openai_params_become_ollama_options(fake: FakeOllama, api_base: str) -> None:
    llmctl.completion(
        "ollama/llama3.2",
        HELLO,
        api_base=api_base,
        max_tokens=50,
        temperature=0.2,
        top_p=0.9,
        seed=7,
        stop="END",
        frequency_penalty=0.5,
        presence_penalty=0.25,
        user="someone",
    )
    assert fake.last["options"] == {
        "num_predict": 50,
        "temperature": 0.2,
        "top_p": 0.9,
        "seed": 7,
        "stop": ["END"],
        "frequency_penalty": 0.5,
        "presence_penalty": 0.25,
    }
    assert "user" not in fake.last


@pytest.mark.parametrize(
    "limits",
    [
        pytest.param({"max_completion_tokens": 3}, id="max_completion_tokens"),
        pytest.param({"max_tokens": 9, "max_completion_tokens": 3}, id="both-newer-wins"),
    ],
)
def test_max_completion_tokens_is_num_predict(
    fake: FakeOllama, api_base: str, limits: dict[str, int]
) -> None:
    llmctl.completion("ollama/llama3.2", HELLO, api_base=api_base, **limits)
    assert fake.last["options"] == {"num_predict": 3}


def test_ollama_options_from_config_reach_options_and_the_body(
    fake: FakeOllama, api_base: str
) -> None:
    # As the proxy passes a model's extra litellm_params keys: into optional_params.
    llmctl.completion(
        "ollama/llama3.2",
        HELLO,
        api_base=api_base,
        num_ctx=8192,
        top_k=20,
        repeat_penalty=1.1,
        options={"mirostat": 2},
        keep_alive="10m",
        think=False,
        temperature=0.3,
    )
    assert fake.last["options"] == {
        "num_ctx": 8192,
        "top_k": 20,
        "repeat_penalty": 1.1,
        "mirostat": 2,
        "temperature": 0.3,
    }
    assert (fake.last["keep_alive"], fake.last["think"]) == ("10m", False)


def test_an_openai_param_wins_over_the_same_ollama_option(fake: FakeOllama, api_base: str) -> None:
    llmctl.completion(
        "ollama/llama3.2", HELLO, api_base=api_base, options={"temperature": 1.0}, temperature=0
    )
    assert fake.last["options"] == {"temperature": 0}


@pytest.mark.parametrize(
    ("response_format", "sent"),
    [
        pytest.param({"type": "json_object"}, "json", id="json_object"),
        pytest.param(
            {"type": "json_schema", "json_schema": {"name": "a", "schema": {"type": "object"}}},
            {"type": "object"},
            id="json_schema",
        ),
    ],
)
def test_response_format_becomes_format(
    fake: FakeOllama, api_base: str, response_format: dict[str, Any], sent: Any
) -> None:
    response = llmctl.completion(
        "ollama/llama3.2", HELLO, api_base=api_base, response_format=response_format
    )
    assert fake.last["format"] == sent
    assert json.loads(response.choices[0].message.content or "") == {"said": "hello there"}


def test_a_pydantic_model_as_response_format_sends_its_schema(
    fake: FakeOllama, api_base: str
) -> None:
    from pydantic import BaseModel

    class Said(BaseModel):
        said: str

    llmctl.completion("ollama/llama3.2", HELLO, api_base=api_base, response_format=Said)
    assert fake.last["format"]["properties"] == {"said": {"title": "Said", "type": "string"}}


def test_response_format_text_sends_no_format(fake: FakeOllama, api_base: str) -> None:
    llmctl.completion("ollama/llama3.2", HELLO, api_base=api_base, response_format={"type": "text"})
    assert "format" not in fake.last


@pytest.mark.parametrize(
    ("effort", "think"),
    [("none", False), ("minimal", "low"), ("low", "low"), ("high", "high")],
)
def test_reasoning_effort_becomes_think(
    fake: FakeOllama, api_base: str, effort: str, think: Any
) -> None:
    llmctl.completion("ollama/llama3.2", HELLO, api_base=api_base, reasoning_effort=effort)
    assert fake.last["think"] == think


def test_an_api_key_is_sent_as_a_bearer_token(fake: FakeOllama, api_base: str) -> None:
    response = llmctl.completion("ollama/needs-key", HELLO, api_base=api_base, api_key=KEY)
    assert response.choices[0].message.content == "You said: hello there"
    assert fake.requests[-1]["headers"]["authorization"] == f"Bearer {KEY}"


def test_environment_gives_the_address_and_the_key(
    fake: FakeOllama, api_base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_API_BASE", api_base)
    monkeypatch.setenv("OLLAMA_API_KEY", KEY)
    response = llmctl.completion("ollama/needs-key", HELLO)
    assert response.choices[0].message.content == "You said: hello there"


def test_no_key_sends_no_authorization_header(fake: FakeOllama, api_base: str) -> None:
    llmctl.completion("ollama/llama3.2", HELLO, api_base=api_base)
    assert "authorization" not in fake.requests[-1]["headers"]


def test_extra_headers_are_sent(fake: FakeOllama, api_base: str) -> None:
    llmctl.completion("ollama/llama3.2", HELLO, api_base=api_base, extra_headers={"X-Team": "a"})
    assert fake.requests[-1]["headers"]["x-team"] == "a"


# -- the answer --------------------------------------------------------------------------------


def test_completion_reads_the_answer_and_its_counts(api_base: str) -> None:
    response = llmctl.completion("ollama/llama3.2", HELLO, api_base=api_base)
    assert response.choices[0].message.content == "You said: hello there"
    assert response.choices[0].finish_reason == "stop"
    assert response.model == "llama3.2"
    usage = response.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (2, 4, 6)


def test_done_reason_length_is_finish_reason_length(api_base: str) -> None:
    response = asyncio.run(
        llmctl.acompletion("ollama/llama3.2", HELLO, api_base=api_base, max_tokens=2)
    )
    assert response.choices[0].message.content == "You said:"
    assert response.choices[0].finish_reason == "length"


def test_stream_sends_each_line_as_a_chunk_and_usage_last(api_base: str) -> None:
    chunks = list(llmctl.completion("ollama/llama3.2", HELLO, api_base=api_base, stream=True))
    assert [c.choices[0].delta.content for c in chunks] == [
        "You",
        " said:",
        " hello",
        " there",
        None,
    ]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 6


def test_astream_reads_ndjson_and_honours_include_usage(api_base: str) -> None:
    chunks = asyncio.run(
        astream(
            model="ollama/llama3.2",
            messages=HELLO,
            api_base=api_base,
            max_tokens=3,
            stream_options={"include_usage": True},
        )
    )
    assert text_of(chunks) == "You said: hello"
    assert chunks[-2].choices[0].finish_reason == "length"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 3


def test_thinking_becomes_reasoning_content(api_base: str) -> None:
    response = llmctl.completion("ollama/llama3.2", HELLO, api_base=api_base, think=True)
    assert response.choices[0].message.get("reasoning_content") == "Let me think."
    chunks = list(
        llmctl.completion("ollama/llama3.2", HELLO, api_base=api_base, think=True, stream=True)
    )
    assert chunks[0].choices[0].delta.get("reasoning_content") == "Let me think."
    assert text_of(chunks) == "You said: hello there"


def test_logprobs_are_asked_for_and_read_as_openai_shapes(fake: FakeOllama, api_base: str) -> None:
    response = llmctl.completion(
        "ollama/llama3.2", HELLO, api_base=api_base, logprobs=True, top_logprobs=1
    )
    assert (fake.last["logprobs"], fake.last["top_logprobs"]) == (True, 1)
    content = response.choices[0].get("logprobs")["content"]
    assert [entry["token"] for entry in content] == ["You", " said:", " hello", " there"]
    assert content[0] == {
        "token": "You",
        "logprob": -0.25,
        "bytes": [89, 111, 117],
        "top_logprobs": [{"token": "x", "logprob": -3.5, "bytes": [120]}],
    }
    chunks = list(
        llmctl.completion("ollama/llama3.2", HELLO, api_base=api_base, logprobs=True, stream=True)
    )
    assert chunks[1].choices[0].get("logprobs")["content"][0]["token"] == " said:"


# -- messages and tools ------------------------------------------------------------------------


def test_content_parts_send_text_and_images(fake: FakeOllama, api_base: str) -> None:
    png = base64.b64encode(b"\x89PNG fake").decode()
    parts = [
        {"type": "text", "text": "what is"},
        {"type": "text", "text": "in this picture?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}"}},
    ]
    llmctl.completion("ollama/llava", [{"role": "user", "content": parts}], api_base=api_base)
    assert fake.last["messages"] == [
        {"role": "user", "content": "what is\nin this picture?", "images": [png]}
    ]


def test_tools_are_sent_and_tool_calls_come_back_with_ids(fake: FakeOllama, api_base: str) -> None:
    response = llmctl.completion(
        "ollama/llama3.2", HELLO, api_base=api_base, tools=[WEATHER_TOOL], tool_choice="auto"
    )
    assert fake.last["tools"] == [WEATHER_TOOL]
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert call.id.startswith("call_") and call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris", "days": 2}


def test_streamed_tool_calls_become_tool_call_deltas(api_base: str) -> None:
    chunks = list(
        llmctl.completion(
            "ollama/llama3.2", HELLO, api_base=api_base, tools=[WEATHER_TOOL], stream=True
        )
    )
    calls = [call for c in chunks if c.choices for call in c.choices[0].delta.tool_calls or ()]
    assert len(calls) == 1 and calls[0].index == 0
    assert calls[0].id is not None and calls[0].id.startswith("call_")
    assert calls[0].function is not None
    assert json.loads(calls[0].function.arguments) == {"city": "Paris", "days": 2}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    whole = llmctl.stream_chunk_builder(chunks)
    assert whole.choices[0].message.tool_calls is not None


def test_a_tool_round_trip_sends_arguments_as_objects_and_tool_names(
    fake: FakeOllama, api_base: str
) -> None:
    first = llmctl.completion("ollama/llama3.2", HELLO, api_base=api_base, tools=[WEATHER_TOOL])
    [call] = first.choices[0].message.tool_calls or []
    messages = [
        *HELLO,
        first.choices[0].message,  # the assistant's message object, as users append it
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    second = llmctl.completion("ollama/llama3.2", messages, api_base=api_base, tools=[WEATHER_TOOL])
    assert fake.last["messages"][1:] == [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "type": "function",
                    "function": {
                        "index": 0,
                        "name": "get_weather",
                        "arguments": {"city": "Paris", "days": 2},
                    },
                }
            ],
        },
        {"role": "tool", "content": "sunny", "tool_name": "get_weather"},
    ]
    assert second.choices[0].message.content == "You said: get_weather answered sunny"


def test_tool_choice_none_sends_no_tools(fake: FakeOllama, api_base: str) -> None:
    response = llmctl.completion(
        "ollama/llama3.2", HELLO, api_base=api_base, tools=[WEATHER_TOOL], tool_choice="none"
    )
    assert "tools" not in fake.last
    assert response.choices[0].finish_reason == "stop"


def test_tool_choice_naming_a_function_offers_that_tool_alone(
    fake: FakeOllama, api_base: str
) -> None:
    other = {"type": "function", "function": {"name": "get_time", "parameters": {}}}
    choice = {"type": "function", "function": {"name": "get_time"}}
    llmctl.completion(
        "ollama/llama3.2", HELLO, api_base=api_base, tools=[WEATHER_TOOL, other], tool_choice=choice
    )
    assert fake.last["tools"] == [other]


# -- embeddings --------------------------------------------------------------------------------


def test_embedding_posts_input_and_reads_vectors(fake: FakeOllama, api_base: str) -> None:
    response = llmctl.embedding(
        "ollama/embeddinggemma", ["a b", "cde"], api_base=api_base, dimensions=2, truncate=False
    )
    assert fake.requests[-1]["path"] == "/api/embed"
    assert fake.last == {
        "model": "embeddinggemma",
        "input": ["a b", "cde"],
        "dimensions": 2,
        "truncate": False,
    }
    assert [item.embedding for item in response.data] == [[0.3, 0.4], [0.3, 0.4]]
    assert [item.index for item in response.data] == [0, 1]
    assert response.usage.prompt_tokens == 3


def test_embedding_base64_is_little_endian_float32(api_base: str) -> None:
    response = asyncio.run(
        llmctl.aembedding(
            "ollama/embeddinggemma", "abcd", api_base=api_base, encoding_format="base64"
        )
    )
    raw = base64.b64decode(response.data[0].embedding)  # type: ignore[arg-type]
    assert struct.unpack("<3f", raw) == pytest.approx((0.4, 0.5, 0.6))


def test_embedding_of_token_ids_is_refused_before_sending(fake: FakeOllama, api_base: str) -> None:
    with pytest.raises(llmctl.BadRequestError, match="list of strings for ollama"):
        llmctl.embedding("ollama/embeddinggemma", [[1, 2, 3]], api_base=api_base)
    assert fake.requests == []


# -- what the provider declares ----------------------------------------------------------------


@pytest.mark.parametrize("param", ["n", "logit_bias", "parallel_tool_calls"])
def test_openai_params_ollama_cannot_honour_are_refused_or_dropped(
    fake: FakeOllama, api_base: str, param: str
) -> None:
    value: Any = {"n": 2, "logit_bias": {"1": 1}, "parallel_tool_calls": False}[param]
    with pytest.raises(llmctl.UnsupportedParamsError) as info:
        llmctl.completion("ollama/llama3.2", HELLO, api_base=api_base, **{param: value})
    assert info.value.param == param
    llmctl.completion(
        "ollama/llama3.2", HELLO, api_base=api_base, drop_params=True, **{param: value}
    )
    assert param not in fake.last and "options" not in fake.last


def test_health_check_lists_the_installed_models(api_base: str) -> None:
    from llmctl_ollama import OllamaLLM

    assert OllamaLLM().health_check(api_base=api_base, timeout=2) == {
        "status": "ok",
        "models": ["llama3.2:latest", "embeddinggemma:latest"],
    }
