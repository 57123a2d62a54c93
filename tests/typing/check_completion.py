"""What users see for completion() and acompletion(), pinned with assert_type (run by mypy)."""

from __future__ import annotations

from typing_extensions import assert_type

import llmctl
from llmctl import CustomStreamWrapper, ModelResponse


def sync_calls() -> None:
    assert_type(llmctl.completion("p/m", []), ModelResponse)
    assert_type(llmctl.completion("p/m", [], stream=True), CustomStreamWrapper)
    for chunk in llmctl.completion("p/m", [], stream=True):
        assert_type(chunk, llmctl.ModelResponseStream)


async def async_calls() -> None:
    assert_type(await llmctl.acompletion("p/m", []), ModelResponse)
    stream = await llmctl.acompletion("p/m", [], stream=True)
    assert_type(stream, CustomStreamWrapper)
    async for chunk in stream:
        assert_type(chunk, llmctl.ModelResponseStream)
    assert_type(llmctl.image_generation("a cat", model="p/m"), llmctl.ImageResponse)
    assert_type(await llmctl.aembedding("p/m", ["x"]), llmctl.EmbeddingResponse)
