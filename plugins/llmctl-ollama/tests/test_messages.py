"""OpenAI chat messages become the messages Ollama's /api/chat documents."""

from __future__ import annotations

from typing import Any

import pytest
from llmctl import BadRequestError, Message

from llmctl_ollama.messages import ollama_messages


def test_roles_developer_and_function_become_system_and_tool() -> None:
    assert ollama_messages(
        [
            {"role": "developer", "content": "be brief"},
            {"role": "function", "name": "lookup", "content": "42"},
        ]
    ) == [
        {"role": "system", "content": "be brief"},
        {"role": "tool", "content": "42", "tool_name": "lookup"},
    ]


def test_missing_content_is_sent_empty_as_ollama_requires_it() -> None:
    assert ollama_messages([{"role": "assistant", "content": None}]) == [
        {"role": "assistant", "content": ""}
    ]


def test_reasoning_content_goes_back_as_thinking() -> None:
    message = Message(content="4", reasoning_content="2 + 2")
    assert ollama_messages([message]) == [
        {"role": "assistant", "content": "4", "thinking": "2 + 2"}
    ]


def test_a_tool_message_without_a_known_call_has_no_tool_name() -> None:
    assert ollama_messages([{"role": "tool", "tool_call_id": "call_x", "content": "ok"}]) == [
        {"role": "tool", "content": "ok"}
    ]


def test_tool_call_arguments_may_already_be_an_object_or_empty() -> None:
    calls = [
        {"id": "a", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}},
        {"id": "b", "type": "function", "function": {"name": "g", "arguments": ""}},
    ]
    [message] = ollama_messages([{"role": "assistant", "content": "", "tool_calls": calls}])
    assert [call["function"]["arguments"] for call in message["tool_calls"]] == [{"x": 1}, {}]


@pytest.mark.parametrize(
    ("message", "error"),
    [
        pytest.param({"role": "robot", "content": "x"}, "has the role 'robot'", id="role"),
        pytest.param(
            {
                "role": "user",
                "content": [{"type": "image_url", "image_url": {"url": "https://x/a.png"}}],
            },
            r"content\[0\].image_url is 'https://x/a.png'; ollama takes images inline",
            id="image-link",
        ),
        pytest.param(
            {"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]},
            "a part of type 'input_audio'",
            id="audio-part",
        ),
        pytest.param({"role": "user", "content": 42}, "must be a string or a list", id="content"),
        pytest.param(
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{oops"}}],
            },
            r"tool_calls\[0\].function.arguments must be a JSON object",
            id="arguments-not-json",
        ),
        pytest.param(
            {"role": "assistant", "content": "", "tool_calls": [{"id": "c", "function": {}}]},
            "needs a function with a name",
            id="call-without-name",
        ),
    ],
)
def test_messages_ollama_cannot_take_are_refused_naming_where(
    message: dict[str, Any], error: str
) -> None:
    with pytest.raises(BadRequestError, match=error) as info:
        ollama_messages([{"role": "user", "content": "first"}, message])
    assert info.value.param is not None and info.value.param.startswith("messages[1]")
