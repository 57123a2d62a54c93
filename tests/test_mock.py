"""mock_response answers without any provider, as in LiteLLM."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import llmctl
from conftest import MESSAGES, Register


@pytest.mark.parametrize(
    ("model", "expected"),
    [("gpt-3.5-turbo", "gpt-3.5-turbo"), ("test/unixtime", "unixtime"), ("a/b/c", "b/c")],
)
def test_mock_response_answers_on_any_model(model: str, expected: str) -> None:
    response = llmctl.completion(model=model, messages=MESSAGES, mock_response="Hi!")
    assert response.choices[0].message.content == "Hi!"
    assert response.model == expected
    assert response.usage.model_dump() == {
        "prompt_tokens": 10,
        "completion_tokens": 20,
        "total_tokens": 30,
    }


def test_mock_response_streams_in_three_character_pieces() -> None:
    chunks = list(llmctl.completion(model="x/m", mock_response="Hello world!", stream=True))
    assert [c.choices[0].delta.content for c in chunks] == ["Hel", "lo ", "wor", "ld!", None]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert llmctl.stream_chunk_builder(chunks).choices[0].message.content == "Hello world!"


def test_mock_response_streams_asynchronously() -> None:
    async def consume() -> list[Any]:
        stream = await llmctl.acompletion(model="x/m", mock_response="abcdef", stream=True)
        return [c async for c in stream]

    chunks = asyncio.run(consume())
    assert [c.choices[0].delta.content for c in chunks] == ["abc", "def", None]


@pytest.mark.parametrize("name", ["llmctl.RateLimitError", "litellm.RateLimitError"])
def test_mock_response_naming_an_error_raises_it(name: str) -> None:
    with pytest.raises(llmctl.RateLimitError) as info:
        llmctl.completion(model="x/m", messages=MESSAGES, mock_response=name)
    assert info.value.status_code == 429


def test_mock_response_exception_is_raised_as_our_class() -> None:
    with pytest.raises(llmctl.InternalServerError, match="the handler raised Exception: boom"):
        llmctl.completion(model="x/m", messages=MESSAGES, mock_response=Exception("boom"))
    with pytest.raises(llmctl.NotFoundError):
        llmctl.completion(model="x/m", mock_response=llmctl.CustomLLMError(404, "gone"))


def test_mock_tool_calls_fill_the_message() -> None:
    calls = [{"type": "function", "function": {"name": "f", "arguments": "{}"}}]
    response = llmctl.completion(model="x/m", messages=MESSAGES, mock_tool_calls=calls)
    message = response.choices[0].message
    assert message.content == "This is a mock request"
    assert message.tool_calls is not None and message.tool_calls[0].function.name == "f"
    chunks = list(llmctl.completion(model="x/m", mock_tool_calls=calls, stream=True))
    rebuilt = llmctl.stream_chunk_builder(chunks).choices[0].message
    assert rebuilt.tool_calls is not None and rebuilt.tool_calls[0].function.name == "f"


def test_mock_delay_waits_before_answering() -> None:
    start = time.perf_counter()
    llmctl.completion(model="x/m", mock_response="hi", mock_delay=0.05)
    asyncio.run(llmctl.acompletion(model="x/m", mock_response="hi", mock_delay=0.05))
    assert time.perf_counter() - start >= 0.1


def test_mock_timeout_raises_timeout() -> None:
    with pytest.raises(llmctl.Timeout, match="mock timeout"):
        llmctl.completion(model="x/m", mock_response="hi", mock_timeout=True)


def test_mock_response_dict_is_the_whole_response() -> None:
    response = llmctl.completion(
        model="x/m", mock_response={"choices": [{"message": {"content": "from dict"}}]}
    )
    assert (response.choices[0].message.content, response.model) == ("from dict", "m")


def test_mock_keywords_set_to_none_call_the_provider(register: Register) -> None:
    class Real(llmctl.CustomLLM):
        def completion(self, *args: Any, **kwargs: Any) -> llmctl.ModelResponse:
            return llmctl.ModelResponse(choices=[{"message": {"content": "real"}}])

    register(p=Real())
    response = llmctl.completion("p/m", MESSAGES, mock_response=None, mock_tool_calls=None)
    assert response.choices[0].message.content == "real"


def test_mock_timeout_alone_raises_timeout() -> None:
    with pytest.raises(llmctl.Timeout):
        llmctl.completion(model="x/m", messages=MESSAGES, mock_timeout=True)
