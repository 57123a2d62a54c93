"""Chat calls to the fake Acme API: the requests built from templates, and the answers read."""

from __future__ import annotations

import asyncio
import copy
import socket
from collections.abc import Iterator
from typing import Any

import llmctl
import pytest

import fake_acme
from conftest import Backend

HI = [{"role": "user", "content": "hi there"}]
KEY = "acme-key-1"


def call(backend: Backend, description: dict[str, Any], **kwargs: Any) -> llmctl.ModelResponse:
    return llmctl.completion("http/acme-1", HI, api_base=backend.url, http=description, **kwargs)


def stream(
    backend: Backend, description: dict[str, Any], kind: str = "sync", **kwargs: Any
) -> list[llmctl.ModelResponseStream]:
    kwargs = {"api_base": backend.url, "http": description, "stream": True, **kwargs}
    if kind == "sync":
        return list(llmctl.completion("http/acme-1", HI, **kwargs))

    async def collect() -> list[llmctl.ModelResponseStream]:
        chunks = await llmctl.acompletion("http/acme-1", HI, **kwargs)
        return [chunk async for chunk in chunks]

    return asyncio.run(collect())


def deltas(chunks: list[llmctl.ModelResponseStream]) -> list[str | None]:
    return [c.choices[0].delta.content for c in chunks if c.choices]


def changed(description: dict[str, Any], *path: str, value: Any) -> dict[str, Any]:
    """Return a copy of ``description`` with the key at ``path`` set (None: removed)."""
    copied = copy.deepcopy(description)
    section = copied
    for key in path[:-1]:
        section = section[key]
    if value is None:
        del section[path[-1]]
    else:
        section[path[-1]] = value
    return copied


@pytest.fixture
def drop_params() -> Iterator[None]:
    llmctl.drop_params = True
    try:
        yield
    finally:
        llmctl.drop_params = False


# -- the request ------------------------------------------------------------------------------


def test_prompt_mode_sends_the_body_template_filled_with_the_call(backend: Backend) -> None:
    backend.fake.api_key = KEY
    call(backend, fake_acme.NDJSON, max_tokens=3, temperature=0.2, api_key=KEY)
    request = backend.last
    assert (request.method, request.path) == ("POST", "/v2/generate/acme-1")
    assert request.body == {
        "input": "user: hi there\nassistant:",
        "params": {"max_len": 3, "temp": 0.2},
    }
    assert request.headers["x-api-key"] == KEY  # auth: {header: X-API-Key, scheme: ""}
    assert "authorization" not in request.headers


def test_a_placeholder_without_a_value_leaves_its_key_out(backend: Backend) -> None:
    call(backend, fake_acme.NDJSON)
    assert backend.last.body == {"input": "user: hi there\nassistant:", "params": {}}


def test_messages_mode_sends_the_messages_as_they_are(backend: Backend) -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
    ]
    llmctl.completion("http/acme-1", messages, api_base=backend.url, http=fake_acme.SSE)
    assert backend.last.body == {"messages": messages, "stream": False}


def test_the_prompt_template_comes_from_litellm_s_keys(backend: Backend) -> None:
    template = {
        "roles": {"user": {"pre_message": "[INST] ", "post_message": " [/INST]"}},
        "initial_prompt_value": "<s>",
        "final_prompt_value": "",
    }
    call(backend, fake_acme.NDJSON, **template)
    assert backend.last.body["input"] == "<s>[INST] hi there [/INST]"


def test_a_default_fills_a_value_the_call_lacks_and_the_call_wins(backend: Backend) -> None:
    described = changed(
        fake_acme.NDJSON, "defaults", value={"temperature": 0.7, "fail_message": "x"}
    )
    call(backend, described)
    assert backend.last.body["params"] == {"temp": 0.7}
    call(backend, described, temperature=0)
    assert backend.last.body["params"] == {"temp": 0}


def test_a_placeholder_inside_a_longer_string_is_formatted(backend: Backend) -> None:
    described = changed(
        fake_acme.NDJSON, "body", "input", value="{model}: {prompt} t={temperature}"
    )
    call(backend, described, temperature=0.5)
    assert backend.last.body["input"] == "acme-1: user: hi there\nassistant: t=0.5"
    call(backend, described)  # no temperature: the whole string is left out
    assert "input" not in backend.last.body


def test_static_headers_are_sent_and_the_call_s_headers_win(backend: Backend) -> None:
    described = changed(fake_acme.SSE, "headers", value={"X-Tenant": "acme", "X-Trace": "a"})
    call(backend, described, api_key=KEY, headers={"X-Trace": "b"})
    headers = backend.last.headers
    assert (headers["x-tenant"], headers["x-trace"]) == ("acme", "b")
    assert headers["authorization"] == f"Bearer {KEY}"  # the default auth


def test_the_address_and_key_may_come_from_the_environment(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMCTL_HTTP_API_BASE", backend.url)
    monkeypatch.setenv("LLMCTL_HTTP_API_KEY", KEY)
    llmctl.completion("http/acme-1", HI, http=fake_acme.SSE)
    assert backend.last.headers["authorization"] == f"Bearer {KEY}"


def test_a_path_value_is_percent_encoded_slashes_included(backend: Backend) -> None:
    # No route of the fake has a slash in {model}: the 404 shows the URL that was sent.
    with pytest.raises(llmctl.NotFoundError, match=r"/v2/generate/a%2F\.\.%2Fb%20c:"):
        llmctl.completion("http/a/../b c", HI, api_base=backend.url, http=fake_acme.NDJSON)


def test_a_path_value_that_would_change_the_path_is_refused(backend: Backend) -> None:
    with pytest.raises(llmctl.BadRequestError, match=r"\{model\} is '\.\.', which would change"):
        llmctl.completion("http/..", HI, api_base=backend.url, http=fake_acme.NDJSON)
    assert backend.requests == []


def test_a_path_placeholder_without_a_value_is_a_bad_request(backend: Backend) -> None:
    described = changed(fake_acme.NDJSON, "path", value="/v2/{region}/generate")
    described["options"] = [*described["options"], "region"]
    with pytest.raises(llmctl.BadRequestError, match=r"needs \{region\}: pass region=\.\.\."):
        call(backend, described)
    assert backend.requests == []


# -- OpenAI parameters ------------------------------------------------------------------------


def test_supported_params_are_every_param_a_description_may_send() -> None:
    from llmctl_http import HttpLLM

    params = HttpLLM().get_supported_openai_params("acme-1")
    assert {"max_tokens", "temperature", "tools", "stop", "dimensions"} <= set(params)
    assert not {"n", "logprobs", "audio"} & set(params)


def test_a_param_the_description_does_not_send_is_refused(backend: Backend) -> None:
    with pytest.raises(
        llmctl.UnsupportedParamsError, match=r"no template .* has \{top_p\}"
    ) as info:
        call(backend, fake_acme.NDJSON, top_p=0.5)
    assert info.value.param == "top_p"
    assert backend.requests == []


def test_a_param_llmctl_does_not_declare_is_refused_before_the_call(backend: Backend) -> None:
    with pytest.raises(llmctl.UnsupportedParamsError, match="'n'"):
        call(backend, fake_acme.NDJSON, n=2)


def test_drop_params_drops_a_param_the_description_does_not_send(
    backend: Backend, drop_params: None
) -> None:
    call(backend, fake_acme.NDJSON, top_p=0.5, max_tokens=2)
    assert backend.last.body["params"] == {"max_len": 2}


def test_max_completion_tokens_is_max_tokens(backend: Backend) -> None:
    call(backend, fake_acme.NDJSON, max_completion_tokens=2)
    assert backend.last.body["params"] == {"max_len": 2}


# -- the answer -------------------------------------------------------------------------------


def test_the_answer_is_read_at_its_paths(backend: Backend) -> None:
    response = call(backend, fake_acme.NDJSON, max_tokens=2)
    assert response.choices[0].message.content == "hello from"
    assert response.choices[0].finish_reason == "length"  # map: {max_len: length}
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (4, 2)  # words
    assert response.usage.total_tokens == 6
    assert response.model == "acme-1"


def test_a_backend_s_other_stop_reasons_read_as_openai_s(backend: Backend) -> None:
    assert call(backend, fake_acme.NDJSON).choices[0].finish_reason == "stop"  # eos


def test_an_answer_without_the_configured_path_is_a_bad_gateway(backend: Backend) -> None:
    described = changed(fake_acme.NDJSON, "response", "text", value="output.txt")
    with pytest.raises(llmctl.BadGatewayError) as info:
        call(backend, described)
    message = info.value.message
    assert "http.response.text is 'output.txt', but output has no key 'txt'" in message
    assert "(its keys: text, stop_reason)" in message
    assert f"POST {backend.url}/v2/generate/acme-1" in message
    assert '"output": {"text": "hello from the acme model"' in message  # a snippet


def test_an_answer_whose_text_is_not_a_string_is_a_bad_gateway(backend: Backend) -> None:
    described = changed(fake_acme.NDJSON, "response", "text", value="meta.out")
    with pytest.raises(llmctl.BadGatewayError, match=r"'meta\.out' is 5, not a string"):
        call(backend, described)


def test_usage_that_is_not_a_count_is_a_bad_gateway(backend: Backend) -> None:
    described = changed(fake_acme.NDJSON, "response", "usage", value={"prompt_tokens": "output"})
    with pytest.raises(llmctl.BadGatewayError, match=r"'output' is .* not a token count"):
        call(backend, described)


def test_text_format_reads_the_whole_body_as_the_answer(backend: Backend) -> None:
    response = call(backend, fake_acme.TEXT, max_tokens=3)
    assert response.choices[0].message.content == "hello from the"
    assert backend.last.body == {"prompt": "user: hi there\nassistant:", "max_len": 3}


def test_tool_calls_are_read_as_openai_s(backend: Backend) -> None:
    described = changed(fake_acme.SSE, "body", "tools", value="{tools}")
    described["response"]["tool_calls"] = "choices.0.message.tool_calls"
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    response = call(backend, described, tools=tools)
    assert backend.last.body["tools"] == tools
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls"
    [tool_call] = choice.message.tool_calls or []
    assert tool_call.function.name == "get_weather"
    assert tool_call.function.arguments == '{"city": "Paris"}'
    assert tool_call.id.startswith("call_")


def test_an_api_that_only_streams_answers_completions_from_its_stream(backend: Backend) -> None:
    described = changed(fake_acme.NDJSON, "response", value=None)
    response = asyncio.run(
        llmctl.acompletion("http/acme-1", HI, api_base=backend.url, http=described, max_tokens=4)
    )
    assert response.choices[0].message.content == "hello from the acme"
    assert response.choices[0].finish_reason == "length"
    assert response.usage.total_tokens == 8
    assert backend.last.path == "/v2/stream/acme-1"


# -- streams ----------------------------------------------------------------------------------

FRAMINGS = [
    pytest.param(fake_acme.NDJSON, "/v2/stream/acme-1", id="ndjson"),
    pytest.param(fake_acme.SSE, "/v1/chat/acme-1", id="sse"),
    pytest.param(fake_acme.TEXT, "/v3/complete", id="text"),
]


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize(("description", "path"), FRAMINGS)
def test_each_framing_streams_the_text_as_it_comes(
    backend: Backend, description: dict[str, Any], path: str, kind: str
) -> None:
    chunks = stream(backend, description, kind, max_tokens=3)
    assert deltas(chunks) == ["hello", " from", " the", None]
    assert backend.last.path == path
    last = chunks[-1]
    if description is fake_acme.TEXT:  # plain text says nothing of why it ended
        assert (last.choices[0].finish_reason, last.usage) == ("stop", None)
    else:
        assert last.choices[0].finish_reason == "length"
        assert last.usage is not None and last.usage.completion_tokens == 3


def test_a_stream_asks_for_one_with_the_stream_placeholder(backend: Backend) -> None:
    stream(backend, fake_acme.SSE, max_tokens=1)
    assert backend.last.body == {"messages": HI, "max_tokens": 1, "stream": True}


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_framing_none_streams_the_complete_answer_as_one_chunk(backend: Backend, kind: str) -> None:
    chunks = stream(backend, fake_acme.NONE, kind, max_tokens=2)
    assert deltas(chunks) == ["hello from", None]
    assert chunks[-1].choices[0].finish_reason == "length"
    assert backend.last.body == {
        "input": "user: hi there\nassistant:",
        "params": {"max_len": 2},
        "delay": 0,
    }


def test_plain_text_sse_events_are_the_text(backend: Backend) -> None:
    described = changed(fake_acme.SSE, "stream", value={"framing": "sse", "done": "[DONE]"})
    text = "".join(d or "" for d in deltas(stream(backend, described, max_tokens=1)))
    assert text.startswith('{"choices": [{"delta": {"content": "hello"}}]}')


def test_streamed_tool_calls_become_tool_call_deltas(backend: Backend) -> None:
    described = changed(fake_acme.SSE, "body", "tools", value="{tools}")
    described["stream"]["tool_calls"] = "choices.0.delta.tool_calls"
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    chunks = stream(backend, described, tools=tools)
    calls = [
        c.choices[0].delta.tool_calls for c in chunks if c.choices and c.choices[0].delta.tool_calls
    ]
    [[tool_call]] = calls
    assert tool_call.function is not None and tool_call.function.name == "get_weather"
    assert tool_call.function.arguments == '{"city": "Paris"}'
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_streamed_tool_call_fragments_keep_their_index(backend: Backend) -> None:
    described = changed(fake_acme.SSE, "body", "tools", value="{tools}")
    described["body"]["fragments"] = "{fragments}"
    described["options"] = [*described["options"], "fragments"]
    described["stream"]["tool_calls"] = "choices.0.delta.tool_calls"
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    chunks = stream(backend, described, tools=tools, fragments=True)
    whole = llmctl.stream_chunk_builder(chunks)
    [tool_call] = whole.choices[0].message.tool_calls or []
    assert (tool_call.id, tool_call.function.name) == ("call-1", "get_weather")
    assert tool_call.function.arguments == '{"city": "Paris"}'
    assert whole.choices[0].finish_reason == "tool_calls"


# -- failures ---------------------------------------------------------------------------------


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
def test_an_error_status_maps_to_its_class_with_the_backend_s_message(
    backend: Backend, streamed: bool
) -> None:
    failing = {"fail": 429, "fail_message": "quota of team acme exhausted"}
    with pytest.raises(llmctl.RateLimitError, match="quota of team acme exhausted"):
        if streamed:
            stream(backend, fake_acme.NDJSON, **failing)
        else:
            call(backend, fake_acme.NDJSON, **failing)


@pytest.mark.parametrize(
    "description", [fake_acme.NDJSON, fake_acme.SSE, fake_acme.TEXT], ids=["ndjson", "sse", "text"]
)
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_connection_dropped_mid_stream_is_an_error_never_a_silent_end(
    backend: Backend, description: dict[str, Any], kind: str
) -> None:
    with pytest.raises(llmctl.APIConnectionError, match="broke the connection"):
        stream(backend, description, kind, drop=True)


@pytest.mark.parametrize(
    ("description", "message"),
    [
        pytest.param(fake_acme.NDJSON, r"before its last event \(done = True\)", id="ndjson"),
        pytest.param(fake_acme.SSE, r"before its '\[DONE\]' event", id="sse"),
    ],
)
def test_a_stream_ending_before_its_done_marker_is_a_bad_gateway(
    backend: Backend, description: dict[str, Any], message: str
) -> None:
    with pytest.raises(llmctl.BadGatewayError, match=message):
        stream(backend, description, no_done=True)


@pytest.mark.parametrize("kind", ["complete", "stream", "async"])
def test_a_slow_backend_is_a_timeout(backend: Backend, kind: str) -> None:
    slow: dict[str, Any] = {"delay": 1, "timeout": 0.2}
    with pytest.raises(llmctl.Timeout, match="did not answer in time"):
        if kind == "complete":
            call(backend, fake_acme.NDJSON, **slow)
        elif kind == "stream":
            stream(backend, fake_acme.NDJSON, **slow)
        else:
            asyncio.run(
                llmctl.acompletion(
                    "http/acme-1", HI, api_base=backend.url, http=fake_acme.SSE, **slow
                )
            )


def test_a_refused_connection_is_an_api_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(llmctl.APIConnectionError, match="refused the connection"):
        llmctl.completion("http/acme-1", HI, api_base=base, http=fake_acme.NDJSON)


def test_a_call_without_an_address_says_where_to_give_one() -> None:
    with pytest.raises(llmctl.BadRequestError, match=r"api_base=.*LLMCTL_HTTP_API_BASE"):
        llmctl.completion("http/acme-1", HI, http=fake_acme.NDJSON)
