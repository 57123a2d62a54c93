"""Streamed answers: HTTP chunked text, a piece per chunk, the end of the body the end."""

from __future__ import annotations

import asyncio
from typing import Any

import llmctl
import pytest

from conftest import Backend
from fake_torchserve import ANSWER

MESSAGES = [{"role": "user", "content": "Hi"}]


def stream(
    backend: Backend, kind: str, model: str = "torchserve/llama", **kwargs: Any
) -> list[llmctl.ModelResponseStream]:
    kwargs = {"api_base": backend.url, **kwargs}
    if kind == "sync":
        return list(llmctl.completion(model, MESSAGES, stream=True, **kwargs))

    async def collect() -> list[llmctl.ModelResponseStream]:
        chunks = await llmctl.acompletion(model, MESSAGES, stream=True, **kwargs)
        return [chunk async for chunk in chunks]

    return asyncio.run(collect())


def contents(chunks: list[llmctl.ModelResponseStream]) -> list[str | None]:
    return [chunk.choices[0].delta.content for chunk in chunks if chunk.choices]


KINDS = [pytest.param("sync", id="sync"), pytest.param("async", id="async")]


@pytest.mark.parametrize("kind", KINDS)
def test_each_piece_the_handler_sends_is_a_chunk(backend: Backend, kind: str) -> None:
    chunks = stream(backend, kind, max_tokens=8)
    assert contents(chunks) == ["Hello", " there,", " general", " Kenobi.", None]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is None  # TorchServe counts nothing; nothing is invented
    assert backend.last.body == {
        "prompt": "user: Hi\nassistant:",
        "max_new_tokens": 8,
        "stream": True,
    }


@pytest.mark.parametrize("kind", KINDS)
def test_include_usage_reports_zero_counts(backend: Backend, kind: str) -> None:
    chunks = stream(backend, kind, stream_options={"include_usage": True})
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 0
    assert "stream_options" not in backend.last.body


@pytest.mark.parametrize("kind", KINDS)
def test_json_pieces_are_read_as_they_complete(backend: Backend, kind: str) -> None:
    chunks = stream(backend, kind, model="torchserve/vllm", torchserve_stream_format="json")
    assert contents(chunks) == ["Hello", " there,", " general", " Kenobi.", None]


@pytest.mark.parametrize("kind", KINDS)
def test_the_stream_flag_can_take_the_name_the_handler_reads(backend: Backend, kind: str) -> None:
    # TorchServe's trt_llm_handler.py streams when the body says "streaming": true.
    stream(backend, kind, torchserve_param_names={"stream": "streaming"})
    assert backend.last.body == {"prompt": "user: Hi\nassistant:", "streaming": True}


def test_a_complete_answer_joins_the_pieces_of_a_handler_that_always_streams(
    backend: Backend,
) -> None:
    response = llmctl.completion(
        "torchserve/llama", MESSAGES, api_base=backend.url, fake_stream="always"
    )
    assert response.choices[0].message.content == ANSWER
    assert "stream" not in backend.last.body


@pytest.mark.parametrize("kind", KINDS)
def test_a_connection_dropped_mid_stream_raises_after_the_pieces_received(
    backend: Backend, kind: str
) -> None:
    received: list[str] = []

    def consume() -> None:
        if kind == "sync":
            for chunk in llmctl.completion(
                "torchserve/llama", MESSAGES, stream=True, api_base=backend.url, fake_stream="drop"
            ):
                received.append(chunk.choices[0].delta.content or "")
            return

        async def run() -> None:
            chunks = await llmctl.acompletion(
                "torchserve/llama", MESSAGES, stream=True, api_base=backend.url, fake_stream="drop"
            )
            async for chunk in chunks:
                received.append(chunk.choices[0].delta.content or "")

        asyncio.run(run())

    with pytest.raises(llmctl.APIConnectionError, match="broke the connection"):
        consume()
    assert "".join(received) == "Hello there,"


def test_a_connection_dropped_mid_answer_fails_a_complete_call(backend: Backend) -> None:
    with pytest.raises(llmctl.APIConnectionError, match="broke the connection"):
        llmctl.completion("torchserve/llama", MESSAGES, api_base=backend.url, fake_stream="drop")


@pytest.mark.parametrize("kind", KINDS)
def test_a_pause_longer_than_the_timeout_mid_stream_is_a_timeout(
    backend: Backend, kind: str
) -> None:
    with pytest.raises(llmctl.Timeout, match="did not answer in time"):
        stream(backend, kind, timeout=0.2, fake_stream="pause")


@pytest.mark.parametrize("kind", KINDS)
def test_an_error_status_fails_the_stream_call_itself(backend: Backend, kind: str) -> None:
    if kind == "sync":
        with pytest.raises(llmctl.RateLimitError, match="the handler failed with 429"):
            llmctl.completion(
                "torchserve/llama", MESSAGES, stream=True, api_base=backend.url, fake_status=429
            )
        return

    async def start() -> None:
        await llmctl.acompletion(
            "torchserve/llama", MESSAGES, stream=True, api_base=backend.url, fake_status=429
        )

    with pytest.raises(llmctl.RateLimitError, match="the handler failed with 429"):
        asyncio.run(start())


def test_closing_a_stream_early_closes_its_connection(backend: Backend) -> None:
    chunks = llmctl.completion("torchserve/llama", MESSAGES, stream=True, api_base=backend.url)
    with chunks:
        first = next(iter(chunks))
    assert first.choices[0].delta.content == "Hello"
    # The pooled connection is usable again: the next call answers in full.
    response = llmctl.completion("torchserve/llama", MESSAGES, api_base=backend.url)
    assert response.choices[0].message.content == ANSWER
