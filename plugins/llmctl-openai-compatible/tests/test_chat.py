"""Chat answered at once: the body the server receives, and its answer as a ModelResponse."""

from __future__ import annotations

import asyncio
from typing import Any

import llmctl
import pytest

from conftest import Backend
from fake_openai import CREATED, ID, TOOL_ARGUMENTS, TOOL_CALL_ID

HELLO = [{"role": "user", "content": "hello there general kenobi"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def complete(backend: Backend, kind: str, **kwargs: Any) -> llmctl.ModelResponse:
    kwargs = {
        "model": "openai_compatible/echo",
        "messages": HELLO,
        "api_base": backend.url,
        **kwargs,
    }
    if kind == "sync":
        return llmctl.completion(**kwargs)
    return asyncio.run(llmctl.acompletion(**kwargs))


KINDS = [pytest.param("sync", id="sync"), pytest.param("async", id="async")]


# -- the request ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_openai_params_are_sent_under_their_own_names(backend: Backend, kind: str) -> None:
    complete(
        backend,
        kind,
        temperature=0.2,
        top_p=0.9,
        max_tokens=50,
        stop=["\n"],
        seed=7,
        response_format={"type": "json_object"},
        user="u1",
    )
    assert backend.last.body == {
        "model": "echo",
        "messages": HELLO,
        "temperature": 0.2,
        "top_p": 0.9,
        "max_tokens": 50,
        "stop": ["\n"],
        "seed": 7,
        "response_format": {"type": "json_object"},
        "user": "u1",
    }


def test_the_model_after_the_prefix_is_sent_whole(backend: Backend) -> None:
    with pytest.raises(
        llmctl.NotFoundError, match=r"The model `meta-llama/Llama-3\.1-8B` does not"
    ):
        llmctl.completion("hosted_vllm/meta-llama/Llama-3.1-8B", HELLO, api_base=backend.url)
    assert backend.last.body["model"] == "meta-llama/Llama-3.1-8B"


def test_max_completion_tokens_is_sent_as_max_tokens(backend: Backend) -> None:
    response = complete(backend, "sync", max_completion_tokens=2)
    assert backend.last.body["max_tokens"] == 2 and "max_completion_tokens" not in backend.last.body
    assert response.choices[0].message.content == "hello there"
    assert response.choices[0].finish_reason == "length"


def test_server_params_of_its_own_go_into_the_body(backend: Backend) -> None:
    complete(backend, "sync", top_k=20, repetition_penalty=1.1, guided_json={"type": "object"})
    body = backend.last.body
    assert (body["top_k"], body["repetition_penalty"]) == (20, 1.1)
    assert body["guided_json"] == {"type": "object"}


def test_extra_body_is_merged_into_the_body(backend: Backend) -> None:
    complete(backend, "sync", extra_body={"min_p": 0.1, "top_k": 5})
    body = backend.last.body
    assert (body["min_p"], body["top_k"]) == (0.1, 5) and "extra_body" not in body


def test_extra_body_must_be_a_dict(backend: Backend) -> None:
    with pytest.raises(llmctl.BadRequestError, match="extra_body must be a dict"):
        complete(backend, "sync", extra_body=["top_k"])


def test_a_previous_answers_message_is_sent_back_as_a_dict(backend: Backend) -> None:
    first = complete(backend, "sync")
    history = [*HELLO, first.choices[0].message, {"role": "user", "content": "again"}]
    assert complete(backend, "sync", messages=history).choices[0].message.content == "again"
    assert backend.last.body["messages"][1] == {
        "role": "assistant",
        "content": "hello there general kenobi",
        "tool_calls": [],
    }


def test_a_message_that_is_no_mapping_is_refused() -> None:
    with pytest.raises(llmctl.BadRequestError, match=r"messages\[0\] is a Message"):
        llmctl.completion(
            "openai_compatible/echo", [type("Message", (), {"role": "user"})()], api_base="http://x"
        )


# -- the answer -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_the_answer_keeps_the_servers_id_created_model_content_and_usage(
    backend: Backend, kind: str
) -> None:
    response = complete(backend, kind)
    assert (response.id, response.created, response.model) == (ID, CREATED, "echo")
    choice = response.choices[0]
    assert (choice.message.role, choice.message.content) == ("assistant", HELLO[0]["content"])
    assert choice.finish_reason == "stop"
    usage = response.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (4, 4, 8)


def test_fields_openai_does_not_define_are_kept(backend: Backend) -> None:
    response = complete(backend, "sync", fake_reasoning=True)
    choice = response.choices[0]
    assert choice.message.get("reasoning_content") == "thinking"
    assert choice.get("stop_reason") is None and "stop_reason" in choice
    assert "prompt_logprobs" in response


@pytest.mark.parametrize("kind", KINDS)
def test_tool_calls_are_answered_as_openai_tool_calls(backend: Backend, kind: str) -> None:
    response = complete(backend, kind, tools=TOOLS, tool_choice="auto")
    assert backend.last.body["tools"] == TOOLS and backend.last.body["tool_choice"] == "auto"
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert (call.id, call.type, call.function.name) == (TOOL_CALL_ID, "function", "get_weather")
    assert call.function.arguments == "".join(TOOL_ARGUMENTS)


def test_the_answer_serialises_as_openai_sends_it(backend: Backend) -> None:
    dumped = complete(backend, "sync").model_dump()
    assert dumped["object"] == "chat.completion"
    assert dumped["choices"][0]["message"]["content"] == HELLO[0]["content"]
