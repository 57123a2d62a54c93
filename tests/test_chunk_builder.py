"""stream_chunk_builder rebuilds a whole response from its chunks."""

from __future__ import annotations

import pytest

import llmctl
from llmctl import ModelResponseStream


def chunk(
    delta: dict[str, object], finish: str | None = None, **extra: object
) -> ModelResponseStream:
    return ModelResponseStream(
        id="r1", created=5, model="m", choices=[{"delta": delta, "finish_reason": finish}], **extra
    )


def test_content_usage_and_finish_reason_are_rebuilt() -> None:
    chunks = [
        chunk({"role": "assistant", "content": "Hel"}),
        chunk({"content": "lo"}),
        chunk({}, "length", usage={"prompt_tokens": 1, "completion_tokens": 2}),
    ]
    response = llmctl.stream_chunk_builder(chunks)
    assert (response.id, response.created, response.model) == ("r1", 5, "m")
    assert response.choices[0].message.content == "Hello"
    assert response.choices[0].finish_reason == "length"
    assert response.usage.total_tokens == 3


def test_chunks_as_dicts_are_accepted() -> None:
    dumped = [chunk({"content": "a"}).model_dump(), chunk({}, "stop").model_dump()]
    assert llmctl.stream_chunk_builder(dumped).choices[0].message.content == "a"


def test_reasoning_content_and_choices_are_joined_per_index() -> None:
    chunks = [
        ModelResponseStream(
            choices=[
                {"index": 0, "delta": {"content": "a", "reasoning_content": "r1"}},
                {"index": 1, "delta": {"content": "b"}},
            ]
        ),
        ModelResponseStream(choices=[{"index": 0, "delta": {"reasoning_content": "r2"}}]),
    ]
    response = llmctl.stream_chunk_builder(chunks)
    assert [c.message.content for c in response.choices] == ["a", "b"]
    assert response.choices[0].message.get("reasoning_content") == "r1r2"


def test_no_chunks_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="needs at least one chunk"):
        llmctl.stream_chunk_builder([])
