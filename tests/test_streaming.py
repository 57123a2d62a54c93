"""Handler streams reach the caller as OpenAI chat.completion.chunk objects."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from openai.types.chat import ChatCompletionChunk

import llmctl
from conftest import MESSAGES, Register
from llmctl import CustomLLM, ModelResponseStream


def gsc(text: str = "", *, finished: bool = False, **extra: Any) -> dict[str, Any]:
    chunk = {"text": text, "is_finished": finished, "finish_reason": "stop" if finished else ""}
    return {"usage": None, "index": 0, "tool_use": None, **chunk, **extra}


THREE = [
    gsc("Hel"),
    gsc("lo"),
    gsc("!", finished=True, usage={"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}),
]


class Streams(CustomLLM):
    """Returns whatever ``produce`` makes, from both stream methods."""

    def __init__(self, produce: Any) -> None:
        self.produce = produce

    def streaming(self, *args: Any, **kwargs: Any) -> Any:
        return self.produce()

    async def astreaming(self, *args: Any, **kwargs: Any) -> Any:
        return self.produce()


def sync_chunks(**kwargs: Any) -> list[ModelResponseStream]:
    return list(llmctl.completion("s/m", MESSAGES, stream=True, **kwargs))


def async_chunks(**kwargs: Any) -> list[ModelResponseStream]:
    async def consume() -> list[ModelResponseStream]:
        stream = await llmctl.acompletion("s/m", MESSAGES, stream=True, **kwargs)
        return [chunk async for chunk in stream]

    return asyncio.run(consume())


BOTH = [pytest.param(sync_chunks, id="sync"), pytest.param(async_chunks, id="async")]


def _generator() -> Any:
    yield from THREE


async def _async_generator() -> Any:
    for chunk in THREE:
        yield chunk


@pytest.mark.parametrize("consume", BOTH)
@pytest.mark.parametrize(
    "produce",
    [
        pytest.param(lambda: THREE, id="list"),
        pytest.param(lambda: tuple(THREE), id="tuple"),
        pytest.param(_generator, id="generator"),
        pytest.param(_async_generator, id="async-generator"),
        pytest.param(lambda: iter(THREE), id="iterator"),
    ],
)
def test_every_stream_kind_gives_the_same_chunks(
    register: Register, consume: Any, produce: Any
) -> None:
    register(s=Streams(produce))
    chunks = consume()
    assert [c.choices[0].delta.content for c in chunks] == ["Hel", "lo", "!", None]
    assert [c.choices[0].finish_reason for c in chunks] == [None, None, None, "stop"]


@pytest.mark.parametrize("consume", BOTH)
def test_a_coroutine_returning_a_stream_is_awaited(register: Register, consume: Any) -> None:
    async def produce() -> Any:
        return THREE

    class Coroutines(CustomLLM):
        async def astreaming(self, *args: Any, **kwargs: Any) -> Any:
            return await produce()

    register(s=Coroutines())
    assert [c.choices[0].delta.content for c in consume()] == ["Hel", "lo", "!", None]


@pytest.mark.parametrize("consume", BOTH)
def test_chunks_have_openais_shape(register: Register, consume: Any) -> None:
    register(s=Streams(lambda: THREE))
    chunks = consume()
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk.model_dump())
        assert chunk.object == "chat.completion.chunk"
    assert len({(c.id, c.created, c.model) for c in chunks}) == 1
    assert chunks[0].model == "m"
    assert [c.choices[0].delta.role for c in chunks] == ["assistant", None, None, None]
    last = chunks[-1]
    assert last.choices[0].delta.content is None and last.choices[0].delta.role is None
    assert last.usage is not None and last.usage.total_tokens == 7
    assert all(c.usage is None for c in chunks[:-1])


def test_include_usage_sends_usage_in_a_last_chunk_without_choices(register: Register) -> None:
    register(s=Streams(lambda: THREE))
    chunks = sync_chunks(stream_options={"include_usage": True})
    assert chunks[-2].choices[0].finish_reason == "stop" and chunks[-2].usage is None
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == 3
    ChatCompletionChunk.model_validate(chunks[-1].model_dump())


def test_include_usage_sends_a_usage_chunk_even_when_the_handler_reports_none(
    register: Register,
) -> None:
    register(s=Streams(lambda: [gsc("a"), gsc("b")]))
    chunks = sync_chunks(stream_options={"include_usage": True})
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 0


def test_a_stream_ending_without_a_finish_still_ends_with_one(register: Register) -> None:
    register(s=Streams(lambda: [gsc("a"), gsc("b")]))
    chunks = sync_chunks()
    assert [c.choices[0].finish_reason for c in chunks] == [None, None, "stop"]


def test_an_empty_stream_sends_one_finish_chunk_with_the_role(register: Register) -> None:
    register(s=Streams(lambda: []))
    (chunk,) = sync_chunks()
    assert chunk.choices[0].delta.role == "assistant"
    assert chunk.choices[0].finish_reason == "stop"


def test_tool_use_becomes_delta_tool_calls(register: Register) -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "index": 0,
        "function": {"name": "get_weather", "arguments": '{"city":'},
    }
    more = {
        "id": None,
        "type": "function",
        "index": 0,
        "function": {"name": None, "arguments": '"Paris"}'},
    }
    register(
        s=Streams(
            lambda: [
                gsc(tool_use=call),
                gsc(tool_use=more),
                {**gsc(finished=True), "finish_reason": "tool_calls"},
            ]
        )
    )
    chunks = sync_chunks()
    first = chunks[0].choices[0].delta.tool_calls
    assert first is not None and first[0].function is not None
    assert (first[0].id, first[0].function.name) == ("call_1", "get_weather")
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk.model_dump())
    message = llmctl.stream_chunk_builder(chunks).choices[0].message
    assert message.tool_calls is not None
    assert message.tool_calls[0].function.arguments == '{"city":"Paris"}'


def test_extra_chunk_fields_reach_the_caller(register: Register) -> None:
    logprobs = {"content": [{"token": "a", "logprob": -0.1, "bytes": None, "top_logprobs": []}]}
    register(
        s=Streams(
            lambda: [
                gsc(
                    "a",
                    id="resp-42",
                    reasoning_content="thinking",
                    logprobs=logprobs,
                    provider_specific_fields={"citations": ["doc1"]},
                ),
                gsc(finished=True),
            ]
        )
    )
    chunks = sync_chunks()
    assert {c.id for c in chunks} == {"resp-42"}
    delta = chunks[0].choices[0].delta
    assert delta.get("reasoning_content") == "thinking"
    assert delta.get("provider_specific_fields") == {"citations": ["doc1"]}
    assert chunks[0].choices[0].get("logprobs") == logprobs
    ChatCompletionChunk.model_validate(chunks[0].model_dump())


def test_model_response_stream_chunks_from_the_handler_are_normalised(register: Register) -> None:
    def produce() -> Any:
        yield ModelResponseStream(choices=[{"delta": {"content": "x", "role": "assistant"}}])
        yield ModelResponseStream(choices=[{"delta": {"content": "y"}, "finish_reason": "length"}])

    register(s=Streams(produce))
    chunks = sync_chunks()
    assert [c.choices[0].delta.content for c in chunks] == ["x", "y", None]
    assert [c.choices[0].finish_reason for c in chunks] == [None, None, "length"]
    assert len({c.id for c in chunks}) == 1


@pytest.mark.parametrize("bad", [42, "text", None])
def test_a_stream_that_is_no_stream_names_provider_method_and_value(
    register: Register, bad: Any
) -> None:
    register(s=Streams(lambda: bad))
    with pytest.raises(llmctl.InvalidResponseError) as info:
        sync_chunks()
    message = str(info.value)
    assert message.startswith(f"streaming() returned {type(bad).__name__}")
    assert "provider 's'" in message and "GenericStreamingChunk" in message


def test_a_chunk_of_the_wrong_type_names_the_method(register: Register) -> None:
    register(s=Streams(lambda: [gsc("a"), 3.5]))
    with pytest.raises(llmctl.InvalidResponseError, match=r"streaming\(\) yielded float 3.5"):
        sync_chunks()


@pytest.mark.parametrize("consume", BOTH)
def test_an_error_mid_stream_is_mapped_after_the_chunks_before_it(
    register: Register, consume: Any
) -> None:
    def produce() -> Any:
        yield gsc("a")
        raise llmctl.CustomLLMError(503, "backend went away")

    class Failing(CustomLLM):
        def streaming(self, *args: Any, **kwargs: Any) -> Any:
            return produce()

    register(s=Failing())
    seen: list[Any] = []
    with pytest.raises(llmctl.ServiceUnavailableError, match="backend went away") as info:
        if consume is sync_chunks:
            seen.extend(llmctl.completion("s/m", MESSAGES, stream=True))
        else:
            seen.extend(async_chunks())
    assert info.value.status_code == 503
    assert isinstance(info.value.__cause__, llmctl.CustomLLMError)


def test_an_error_before_the_stream_raises_from_completion_itself(register: Register) -> None:
    class Refusing(CustomLLM):
        def streaming(self, *args: Any, **kwargs: Any) -> Any:
            raise llmctl.CustomLLMError(401, "bad key")

    register(s=Refusing())
    with pytest.raises(llmctl.AuthenticationError, match="bad key"):
        llmctl.completion("s/m", MESSAGES, stream=True)


def test_closing_a_stream_early_closes_the_handlers_generator(register: Register) -> None:
    closed: list[bool] = []

    def produce() -> Any:
        try:
            while True:
                yield gsc("x")
        finally:
            closed.append(True)

    register(s=Streams(produce))
    stream = llmctl.completion("s/m", MESSAGES, stream=True)
    next(stream)
    stream.close()
    assert closed == [True]


def test_a_sync_stream_cannot_be_iterated_with_async_for(register: Register) -> None:
    register(s=Streams(lambda: THREE))
    stream = llmctl.completion("s/m", MESSAGES, stream=True)
    with pytest.raises(TypeError, match="came from completion"):
        stream.__aiter__()


def test_usage_reported_after_the_finish_rides_on_the_finish_chunk(register: Register) -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    register(s=Streams(lambda: [gsc("a"), gsc(finished=True), gsc(usage=usage)]))
    chunks = sync_chunks()
    assert all(c.choices for c in chunks)  # no choices-less chunk unless include_usage
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 2


def test_a_choice_finished_twice_gets_one_finish_chunk(register: Register) -> None:
    register(s=Streams(lambda: [gsc("a"), gsc(finished=True), gsc(finished=True)]))
    reasons = [c.choices[0].finish_reason for c in sync_chunks()]
    assert reasons == [None, "stop"]


def test_choices_streamed_in_turn_report_usage_once(register: Register) -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    register(
        s=Streams(
            lambda: [
                gsc("a", index=0),
                gsc(finished=True, index=0, usage=usage),
                gsc("b", index=1),
                gsc(finished=True, index=1, usage=usage),
            ]
        )
    )
    chunks = sync_chunks()
    assert sum(1 for c in chunks if c.usage is not None) == 1
    finishes = [(c.choices[0].index, c.choices[0].finish_reason) for c in chunks[-2:]]
    assert finishes == [(0, "stop"), (1, "stop")]


def test_leaving_an_async_with_block_closes_the_handlers_generator(register: Register) -> None:
    closed: list[bool] = []

    async def produce() -> Any:
        try:
            while True:
                yield gsc("x")
        finally:
            closed.append(True)

    class Endless(CustomLLM):
        def astreaming(self, *args: Any, **kwargs: Any) -> Any:
            return produce()

    register(s=Endless())

    async def read_one() -> None:
        async with await llmctl.acompletion("s/m", MESSAGES, stream=True) as stream:
            async for _ in stream:
                break

    asyncio.run(read_one())
    assert closed == [True]


def test_cancelling_a_stream_of_a_sync_generator_cancels_and_closes_it(register: Register) -> None:
    import threading

    closed = threading.Event()
    release = threading.Event()

    def produce() -> Any:
        try:
            yield gsc("first")
            release.wait(5)  # a backend that stalls mid-stream
            yield gsc("late")
        finally:
            closed.set()

    class Stalls(CustomLLM):
        def streaming(self, *args: Any, **kwargs: Any) -> Any:
            return produce()

    register(s=Stalls())

    async def read_with_timeout() -> None:
        stream = await llmctl.acompletion("s/m", MESSAGES, stream=True)
        await asyncio.wait_for(_drain_all(stream), timeout=0.2)

    with pytest.raises(TimeoutError):
        asyncio.run(read_with_timeout())
    release.set()
    assert closed.wait(5)


async def _drain_all(stream: Any) -> None:
    async for _ in stream:
        pass


def test_a_complete_answer_streamed_keeps_function_call_and_logprobs(register: Register) -> None:
    logprobs = {"content": [{"token": "x", "logprob": -0.5, "bytes": None, "top_logprobs": []}]}

    class Whole(CustomLLM):
        def completion(self, *args: Any, **kwargs: Any) -> Any:
            return {
                "choices": [
                    {
                        "message": {
                            "content": None,
                            "function_call": {"name": "f", "arguments": "{}"},
                        },
                        "finish_reason": "function_call",
                        "logprobs": logprobs,
                    }
                ]
            }

    register(s=Whole())
    chunks = sync_chunks()
    function_call = chunks[0].choices[0].delta.function_call
    assert function_call is not None and function_call.name == "f"
    assert chunks[0].choices[0].get("logprobs") == logprobs
    assert chunks[-1].choices[0].finish_reason == "function_call"


def test_server_chunks_finished_in_place_equal_chunks_built_from_dicts(register: Register) -> None:
    # What an OpenAI-compatible server sends, validated from its JSON as a plugin would.
    events = [
        '{"id":"srv-1","object":"chat.completion.chunk","created":1,"model":"m",'
        '"system_fingerprint":"fp","choices":[{"index":0,"delta":{"role":"assistant",'
        f'"content":"{word}"}},"logprobs":null,"finish_reason":null}}],"extra":1}}'
        for word in ("Hello", " there", " world")
    ]

    def objects() -> Any:
        for event in events:
            yield ModelResponseStream.model_validate_json(event)

    def dicts() -> Any:
        for word in ("Hello", " there", " world"):
            yield {"text": word, "id": "srv-1", "is_finished": False, "index": 0}

    register(objects=Streams(objects), dicts=Streams(dicts))
    passed = list(llmctl.completion(model="objects/m", messages=MESSAGES, stream=True))
    built = list(llmctl.completion(model="dicts/m", messages=MESSAGES, stream=True))
    assert len(passed) == len(built) == 4
    for one, other in zip(passed, built, strict=True):
        assert one.model_dump(exclude={"created"}) == other.model_dump(exclude={"created"})
        assert one.model_dump_json(exclude_unset=True, exclude={"created"}) == (
            other.model_dump_json(exclude_unset=True, exclude={"created"})
        )
    assert [c.choices[0].delta.role for c in passed] == ["assistant", None, None, None]
