"""Every code block of the feature guide runs with ``litellm`` replaced by ``llmctl``.

The guide (LiteLLM's "Custom API Server" page, tests/data/custom_llm_guide.txt, a copy of
../shared/seed/custom_llm_guide.txt) is read as it is; nothing in its code is changed but the
name. The calls a user then makes on its handlers are tested too.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import pytest
from openai.types import ImagesResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk

import llmctl

GUIDE = Path(__file__).parent / "data" / "custom_llm_guide.txt"
BLOCKS = re.findall(r"```python\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.S)


def run_block(index: int) -> dict[str, Any]:
    """Execute guide block ``index`` with litellm replaced by llmctl; return its namespace."""
    namespace: dict[str, Any] = {"__name__": f"guide_block_{index}"}
    exec(compile(BLOCKS[index].replace("litellm", "llmctl"), f"guide[{index}]", "exec"), namespace)
    return namespace


def test_guide_has_the_six_python_blocks() -> None:
    assert len(BLOCKS) == 6


def test_quick_start_block_runs_and_answers_hi() -> None:
    namespace = run_block(0)
    assert namespace["resp"].choices[0].message.content == "Hi!"
    ChatCompletion.model_validate(namespace["resp"].model_dump())


def test_proxy_handler_block_serves_sync_and_async() -> None:
    handler = run_block(1)["my_custom_llm"]
    llmctl.custom_provider_map = [{"provider": "my-custom-llm", "custom_handler": handler}]
    messages = [{"role": "user", "content": 'Say "this is a test" in JSON!'}]
    sync = llmctl.completion(model="my-custom-llm/my-model", messages=messages)
    async_ = asyncio.run(llmctl.acompletion(model="my-custom-llm/my-model", messages=messages))
    for response in (sync, async_):
        assert response.choices[0].message.content == "Hi!"
        assert response.model == "gpt-3.5-turbo"
        assert response.usage.total_tokens == 30


@pytest.fixture
def unixtime() -> Any:
    handler = run_block(2)["unixtime"]
    llmctl.custom_provider_map = [{"provider": "unixtime", "custom_handler": handler}]
    return handler


def _is_recent_unixtime(text: str | None) -> bool:
    return text is not None and abs(int(text) - time.time()) < 60


def test_streaming_block_serves_completion(unixtime: Any) -> None:
    response = llmctl.completion(model="unixtime/now", messages=[])
    assert _is_recent_unixtime(response.choices[0].message.content)
    assert response.model == "unixtime"  # the mock's model: "test/unixtime" without prefix


def test_streaming_block_serves_acompletion(unixtime: Any) -> None:
    response = asyncio.run(llmctl.acompletion(model="unixtime/now", messages=[]))
    assert _is_recent_unixtime(response.choices[0].message.content)


def test_streaming_block_serves_sync_stream_from_a_returned_dict(unixtime: Any) -> None:
    chunks = list(llmctl.completion(model="unixtime/now", messages=[], stream=True))
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk.model_dump())
    assert _is_recent_unixtime(chunks[0].choices[0].delta.content)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    rebuilt = llmctl.stream_chunk_builder(chunks)
    assert rebuilt.choices[0].message.content == chunks[0].choices[0].delta.content


def test_streaming_block_serves_async_stream(unixtime: Any) -> None:
    async def consume() -> list[Any]:
        stream = await llmctl.acompletion(model="unixtime/now", messages=[], stream=True)
        return [chunk async for chunk in stream]

    chunks = asyncio.run(consume())
    assert _is_recent_unixtime(chunks[0].choices[0].delta.content)
    assert [c.choices[0].finish_reason for c in chunks] == [None, "stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 0


@pytest.fixture
def image_handler() -> Any:
    handler = run_block(3)["my_custom_llm"]
    llmctl.custom_provider_map = [{"provider": "my-custom-llm", "custom_handler": handler}]
    return handler


def test_image_block_serves_sync_image_generation(image_handler: Any) -> None:
    # The guide's aimage_generation declares no api_key: LiteLLM 1.110.2 fails here.
    response = llmctl.image_generation(model="my-custom-llm/my-model", prompt="A sea otter")
    assert response.data[0].url == "https://example.com/image.png"
    ImagesResponse.model_validate(response.model_dump())


def test_image_block_serves_async_image_generation(image_handler: Any) -> None:
    response = asyncio.run(
        llmctl.aimage_generation(model="my-custom-llm/my-model", prompt="A sea otter")
    )
    assert response.data[0].url == "https://example.com/image.png"


def test_extra_params_block_sees_only_the_callers_param() -> None:
    namespace = run_block(4)  # asserts optional_params == {"my_custom_param": ...} inside
    assert namespace["resp"].choices[0].message.content == "Hi!"


def test_handler_spec_block_defines_the_documented_interface() -> None:
    source = BLOCKS[5].replace("litellm", "llmctl")
    # The spec block restates the classes; our own must offer the same methods.
    for method in re.findall(r"def (\w+)\(", source):
        if method != "__init__":
            assert callable(getattr(llmctl.CustomLLM, method))
    error = llmctl.CustomLLMError(status_code=500, message="Not implemented yet!")
    assert (error.status_code, error.message) == (500, "Not implemented yet!")
