"""The handler contract: what a handler receives, which method serves a call, what it returns."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import llmctl
from conftest import MESSAGES, Register
from llmctl import CustomLLM, ModelResponse

CHAT_KWARGS = {
    "model",
    "messages",
    "api_base",
    "custom_prompt_dict",
    "model_response",
    "print_verbose",
    "encoding",
    "api_key",
    "logging_obj",
    "optional_params",
    "acompletion",
    "litellm_params",
    "logger_fn",
    "headers",
    "timeout",
    "client",
}
IMAGE_KWARGS = {
    "model",
    "prompt",
    "api_key",
    "api_base",
    "model_response",
    "optional_params",
    "litellm_params",  # llmctl only: LiteLLM 1.110.2 passes image handlers none
    "logging_obj",
    "timeout",
    "client",
}
EMBEDDING_KWARGS = {
    "model",
    "input",
    "model_response",
    "print_verbose",
    "logging_obj",
    "optional_params",
    "litellm_params",
    "api_key",
    "api_base",
    "timeout",
    "client",
    "headers",
}


def _answer(text: str = "ok") -> ModelResponse:
    return ModelResponse(choices=[{"message": {"content": text}}])


class Recorder(CustomLLM):
    """Records each call's positional and keyword arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        self.calls.append(("completion", args, kwargs))
        return _answer()

    async def acompletion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        self.calls.append(("acompletion", args, kwargs))
        return _answer()

    def streaming(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(("streaming", args, kwargs))
        return {"text": "x", "is_finished": True, "finish_reason": "stop", "usage": None}

    async def astreaming(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(("astreaming", args, kwargs))
        yield {"text": "x", "is_finished": True, "finish_reason": "stop", "usage": None}

    def image_generation(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(("image_generation", args, kwargs))
        return {"data": [{"url": "u"}]}

    def embedding(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(("embedding", args, kwargs))
        return {"data": [{"embedding": [0.1], "index": 0}]}


@pytest.fixture
def recorder(register: Register) -> Recorder:
    handler = Recorder()
    register(probe=handler)
    return handler


async def _drain(stream: Any) -> list[Any]:
    return [chunk async for chunk in stream]


# -- what a handler receives -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "method"),
    [
        pytest.param(lambda: llmctl.completion("probe/m1", MESSAGES), "completion", id="sync"),
        pytest.param(
            lambda: asyncio.run(llmctl.acompletion("probe/m1", MESSAGES)), "acompletion", id="async"
        ),
        pytest.param(
            lambda: list(llmctl.completion("probe/m1", MESSAGES, stream=True)),
            "streaming",
            id="sync-stream",
        ),
        pytest.param(lambda: asyncio.run(_stream_async()), "astreaming", id="async-stream"),
    ],
)
def test_chat_methods_receive_litellms_keywords_only(
    recorder: Recorder, call: Any, method: str
) -> None:
    call()
    name, args, kwargs = recorder.calls[-1]
    assert (name, args) == (method, ())
    assert set(kwargs) == CHAT_KWARGS
    assert kwargs["model"] == "m1"
    assert kwargs["messages"] == MESSAGES
    assert kwargs["acompletion"] is method.startswith("a")
    assert isinstance(kwargs["model_response"], ModelResponse)
    assert kwargs["timeout"] == 600.0
    assert kwargs["headers"] == {}
    assert kwargs["custom_prompt_dict"] == {}


async def _stream_async() -> list[Any]:
    return await _drain(await llmctl.acompletion("probe/m1", MESSAGES, stream=True))


def test_image_methods_receive_the_image_keywords(recorder: Recorder) -> None:
    llmctl.image_generation(model="probe/img", prompt="otter", size="256x256", n=1)
    _, args, kwargs = recorder.calls[-1]
    assert args == () and set(kwargs) == IMAGE_KWARGS
    assert (kwargs["model"], kwargs["prompt"]) == ("img", "otter")
    assert kwargs["optional_params"] == {"size": "256x256", "n": 1}


def test_embedding_methods_receive_the_embedding_keywords(recorder: Recorder) -> None:
    llmctl.embedding(model="probe/e", input=["a", "b"], dimensions=3)
    _, args, kwargs = recorder.calls[-1]
    assert args == () and set(kwargs) == EMBEDDING_KWARGS
    assert (kwargs["model"], kwargs["input"]) == ("e", ["a", "b"])
    assert kwargs["optional_params"] == {"dimensions": 3}


def test_openai_and_unknown_params_reach_optional_params_and_call_args_do_not(
    recorder: Recorder,
) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {}}}]
    llmctl.completion(
        "probe/m1",
        MESSAGES,
        temperature=0.2,
        max_tokens=5,
        tools=tools,
        my_custom_param="x",
        api_base="http://b",
        api_key="k",
        headers={"X-A": "1"},
        timeout=7,
        metadata={"a": 1},
    )
    kwargs = recorder.calls[-1][2]
    assert kwargs["optional_params"] == {
        "temperature": 0.2,
        "max_tokens": 5,
        "tools": tools,
        "my_custom_param": "x",
    }
    assert (kwargs["api_base"], kwargs["api_key"], kwargs["timeout"]) == ("http://b", "k", 7)
    assert kwargs["headers"] == {"X-A": "1"}
    assert kwargs["litellm_params"]["metadata"] == {"a": 1}
    assert kwargs["litellm_params"]["custom_llm_provider"] == "probe"
    assert kwargs["litellm_params"]["drop_params"] is None


def test_stream_methods_find_stream_in_optional_params(recorder: Recorder) -> None:
    options = {"include_usage": True}
    list(llmctl.completion("probe/m1", MESSAGES, stream=True, stream_options=options))
    assert recorder.calls[-1][2]["optional_params"] == {"stream": True, "stream_options": options}


def test_max_completion_tokens_reaches_the_handler_as_max_tokens(recorder: Recorder) -> None:
    llmctl.completion("probe/m1", MESSAGES, max_completion_tokens=9)
    assert recorder.calls[-1][2]["optional_params"] == {"max_tokens": 9}


def test_none_valued_params_count_as_not_given(recorder: Recorder) -> None:
    llmctl.completion("probe/m1", MESSAGES, temperature=None)
    assert recorder.calls[-1][2]["optional_params"] == {}


def test_extra_headers_merge_into_headers(recorder: Recorder) -> None:
    llmctl.completion("probe/m1", MESSAGES, headers={"A": "1"}, extra_headers={"B": "2"})
    assert recorder.calls[-1][2]["headers"] == {"A": "1", "B": "2"}


def test_messages_may_be_omitted(recorder: Recorder) -> None:
    llmctl.completion("probe/m1")
    assert recorder.calls[-1][2]["messages"] == []


def test_custom_llm_provider_names_the_provider_of_a_bare_model(recorder: Recorder) -> None:
    llmctl.completion("m1", MESSAGES, custom_llm_provider="probe")
    assert recorder.calls[-1][2]["model"] == "m1"


def test_model_after_the_first_slash_is_kept_whole(recorder: Recorder) -> None:
    llmctl.completion("probe/org/m1", MESSAGES)
    assert recorder.calls[-1][2]["model"] == "org/m1"


class Narrow(CustomLLM):
    """Declares only some of the keywords, as the guide's image handler does."""

    def completion(self, model: str, messages: list[Any]) -> ModelResponse:  # type: ignore[override]
        return _answer(f"{model}:{len(messages)}")


def test_handler_receives_only_the_keywords_it_declares(register: Register) -> None:
    register(narrow=Narrow())
    assert llmctl.completion("narrow/m", MESSAGES).choices[0].message.content == "m:1"


def test_handler_without_custom_llm_base_is_served(register: Register) -> None:
    class Duck:
        def completion(self, **kwargs: Any) -> dict[str, Any]:
            return {"choices": [{"message": {"content": "quack"}}]}

    register(duck=Duck())
    assert llmctl.completion("duck/m", MESSAGES).choices[0].message.content == "quack"


# -- custom_provider_map is read at call time -------------------------------------------------


def test_reassigning_custom_provider_map_takes_effect_on_the_next_call(register: Register) -> None:
    register(probe=Narrow())
    assert llmctl.completion("probe/a", MESSAGES).choices[0].message.content == "a:1"
    llmctl.custom_provider_map = [{"provider": "other", "custom_handler": Narrow()}]
    with pytest.raises(llmctl.ProviderNotFoundError):
        llmctl.completion("probe/a", MESSAGES)
    assert llmctl.completion("other/b", MESSAGES).choices[0].message.content == "b:1"


def test_appending_to_custom_provider_map_takes_effect_on_the_next_call(register: Register) -> None:
    register(probe=Narrow())
    llmctl.completion("probe/a", MESSAGES)
    llmctl.custom_provider_map.append({"provider": "late", "custom_handler": Narrow()})
    assert llmctl.completion("late/z", MESSAGES).choices[0].message.content == "z:1"


def test_replacing_an_entry_in_place_takes_effect_on_the_next_call(register: Register) -> None:
    register(probe=Narrow())
    llmctl.completion("probe/a", MESSAGES)
    llmctl.custom_provider_map[0] = {"provider": "probe", "custom_handler": Recorder()}
    assert llmctl.completion("probe/a", MESSAGES).choices[0].message.content == "ok"


# -- bridging: a handler serves the calls it lacks a method for -------------------------------


class OnlyCompletion(CustomLLM):
    def __init__(self) -> None:
        self.threads: list[str] = []

    def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        self.threads.append(threading.current_thread().name)
        return ModelResponse(
            choices=[{"message": {"content": "whole answer"}}],
            usage={"prompt_tokens": 1, "completion_tokens": 2},
        )


class OnlyStreaming(CustomLLM):
    def streaming(self, *args: Any, **kwargs: Any) -> Any:
        yield {"text": "Hel", "is_finished": False, "finish_reason": "", "usage": None}
        yield {
            "text": "lo",
            "is_finished": True,
            "finish_reason": "stop",
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
        }


class OnlyAsync(CustomLLM):
    async def acompletion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        await asyncio.sleep(0)
        return _answer("async answer")

    async def astreaming(self, *args: Any, **kwargs: Any) -> Any:
        for piece in ("a", "b"):
            await asyncio.sleep(0)
            yield {"text": piece, "is_finished": False, "finish_reason": "", "usage": None}


def test_only_completion_serves_acompletion_in_a_worker_thread(register: Register) -> None:
    handler = OnlyCompletion()
    register(p=handler)

    async def call() -> ModelResponse:
        return await llmctl.acompletion("p/m", MESSAGES)

    assert asyncio.run(call()).choices[0].message.content == "whole answer"
    assert handler.threads[-1] != threading.main_thread().name


def test_only_completion_serves_a_stream_of_one_chunk(register: Register) -> None:
    register(p=OnlyCompletion())
    chunks = list(llmctl.completion("p/m", MESSAGES, stream=True))
    assert [c.choices[0].delta.content for c in chunks] == ["whole answer", None]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 3
    assert len({c.id for c in chunks}) == 1


def test_only_completion_serves_an_async_stream(register: Register) -> None:
    register(p=OnlyCompletion())
    chunks = asyncio.run(_stream_of("p/m"))
    assert [c.choices[0].delta.content for c in chunks] == ["whole answer", None]


async def _stream_of(model: str, **kwargs: Any) -> list[Any]:
    return await _drain(await llmctl.acompletion(model, MESSAGES, stream=True, **kwargs))


def test_only_streaming_serves_completion_with_the_chunks_joined(register: Register) -> None:
    register(p=OnlyStreaming())
    response = llmctl.completion("p/m", MESSAGES)
    assert response.choices[0].message.content == "Hello"
    assert response.usage.total_tokens == 7


def test_only_streaming_serves_acompletion_and_astreaming(register: Register) -> None:
    register(p=OnlyStreaming())
    response = asyncio.run(llmctl.acompletion("p/m", MESSAGES))
    assert response.choices[0].message.content == "Hello"
    chunks = asyncio.run(_stream_of("p/m"))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello"


def test_only_async_methods_serve_the_sync_calls(register: Register) -> None:
    register(p=OnlyAsync())
    assert llmctl.completion("p/m", MESSAGES).choices[0].message.content == "async answer"
    chunks = list(llmctl.completion("p/m", MESSAGES, stream=True))
    assert [c.choices[0].delta.content for c in chunks] == ["a", "b", None]


def test_sync_call_of_an_async_handler_works_inside_a_running_loop(register: Register) -> None:
    register(p=OnlyAsync())

    async def from_async_code() -> str | None:
        return llmctl.completion("p/m", MESSAGES).choices[0].message.content

    assert asyncio.run(from_async_code()) == "async answer"


def test_only_aimage_generation_serves_image_generation(register: Register) -> None:
    class AsyncImages(CustomLLM):
        async def aimage_generation(self, model: str, prompt: str) -> Any:  # type: ignore[override]
            return {"data": [{"url": f"https://img/{prompt}"}]}

    register(p=AsyncImages())
    assert llmctl.image_generation(prompt="cat", model="p/m").data[0].url == "https://img/cat"


def test_only_embedding_serves_aembedding(register: Register) -> None:
    class SyncEmbeddings(CustomLLM):
        def embedding(self, model: str, input: list[str]) -> Any:  # type: ignore[override]
            return {
                "data": [{"embedding": [float(len(t))], "index": i} for i, t in enumerate(input)]
            }

    register(p=SyncEmbeddings())
    response = asyncio.run(llmctl.aembedding(model="p/m", input=["ab", "c"]))
    assert [d.embedding for d in response.data] == [[2.0], [1.0]]
    assert response.model == "m"


def test_sync_handler_never_blocks_the_event_loop(register: Register) -> None:
    release = threading.Event()

    class Blocking(CustomLLM):
        def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:
            release.wait(5)
            return _answer()

    register(p=Blocking())

    async def scenario() -> str:
        call = asyncio.create_task(llmctl.acompletion("p/m", MESSAGES))
        await asyncio.sleep(0.01)  # the loop is free while the handler blocks
        release.set()
        return (await call).choices[0].message.content or ""

    assert asyncio.run(scenario()) == "ok"


def test_unimplemented_operation_names_provider_and_operation(register: Register) -> None:
    register(p=OnlyCompletion())
    with pytest.raises(llmctl.UnsupportedOperationError) as info:
        llmctl.image_generation(prompt="cat", model="p/m")
    assert str(info.value).startswith(
        "provider 'p' does not support image generation (its handler implements: completion)"
    )
    assert info.value.status_code == 400


# -- results are normalised --------------------------------------------------------------------


def test_dict_result_becomes_a_model_response_with_fields_filled(register: Register) -> None:
    class Dicts(CustomLLM):
        def completion(self, *args: Any, **kwargs: Any) -> Any:
            return {"choices": [{"message": {"content": "from a dict"}}]}

    register(p=Dicts())
    response = llmctl.completion("p/m", MESSAGES)
    assert isinstance(response, ModelResponse)
    assert response.id.startswith("chatcmpl-") and response.created > 0
    assert (response.object, response.model) == ("chat.completion", "m")


def test_model_response_kwarg_filled_and_returned_is_the_answer(register: Register) -> None:
    class Filler(CustomLLM):
        def completion(self, *, model_response: ModelResponse, **kwargs: Any) -> ModelResponse:
            model_response.choices[0].message.content = "filled"
            return model_response

    register(p=Filler())
    response = llmctl.completion("p/m", MESSAGES)
    assert (response.choices[0].message.content, response.model) == ("filled", "m")


@pytest.mark.parametrize("bad", [None, "text", 42, ["list"]])
def test_wrong_return_type_names_provider_and_what_it_returned(
    register: Register, bad: Any
) -> None:
    class Wrong(CustomLLM):
        def completion(self, *args: Any, **kwargs: Any) -> Any:
            return bad

    register(p=Wrong())
    with pytest.raises(llmctl.InvalidResponseError) as info:
        llmctl.completion("p/m", MESSAGES)
    message = str(info.value)
    assert message.startswith(f"completion() returned {type(bad).__name__}")
    assert "return a ModelResponse" in message and "provider 'p'" in message


def test_invalid_dict_result_says_which_field_is_wrong(register: Register) -> None:
    class Wrong(CustomLLM):
        def completion(self, *args: Any, **kwargs: Any) -> Any:
            return {"choices": "not a list"}

    register(p=Wrong())
    with pytest.raises(
        llmctl.InvalidResponseError,
        match=r"not a valid ModelResponse \(choices: Input should be a valid list\)",
    ):
        llmctl.completion("p/m", MESSAGES)


# -- bad input raises before the handler is called --------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param(
            {"model": "probe/m1", "messages": "Hello"},
            "messages must be a list of {'role': ..., 'content': ...} dicts, got str: 'Hello'",
            id="messages-not-a-list",
        ),
        pytest.param(
            {"model": "probe/m1", "messages": ["Hello"]},
            "messages[0] must be a dict with a 'role' key",
            id="message-not-a-dict",
        ),
        pytest.param(
            {"model": "gpt-4o", "messages": MESSAGES},
            "model 'gpt-4o' names no provider; write it as '<provider>/<model>'",
            id="model-without-provider",
        ),
        pytest.param(
            {"model": "", "messages": MESSAGES},
            "model must be a non-empty string such as 'my-provider/my-model', got ''",
            id="empty-model",
        ),
        pytest.param(
            {"model": 7, "messages": MESSAGES},
            "model must be a non-empty string such as 'my-provider/my-model', got 7",
            id="model-not-a-string",
        ),
    ],
)
def test_bad_input_raises_before_the_handler_is_called(
    recorder: Recorder, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(llmctl.BadRequestError) as info:
        llmctl.completion(**kwargs)
    assert str(info.value).startswith(message)
    assert recorder.calls == []


def test_image_generation_needs_a_prompt_and_a_model(recorder: Recorder) -> None:
    with pytest.raises(llmctl.BadRequestError, match="prompt must be a non-empty string"):
        llmctl.image_generation(prompt="", model="probe/m")
    with pytest.raises(llmctl.BadRequestError, match="needs model='<provider>/<model>'"):
        llmctl.image_generation(prompt="cat")
    assert recorder.calls == []


def test_embedding_needs_input(recorder: Recorder) -> None:
    with pytest.raises(llmctl.BadRequestError, match="input must be a non-empty string or list"):
        llmctl.embedding(model="probe/m", input=None)
    assert recorder.calls == []


# -- get_llm_provider --------------------------------------------------------------------------


def test_get_llm_provider_splits_as_litellm_does(recorder: Recorder) -> None:
    assert llmctl.get_llm_provider("probe/m1") == ("m1", "probe", None, None)
    assert llmctl.get_llm_provider("probe/org/m1") == ("org/m1", "probe", None, None)
    assert llmctl.get_llm_provider("m1", custom_llm_provider="probe") == ("m1", "probe", None, None)
    assert llmctl.get_llm_provider("probe/m", api_base="http://b", api_key="k") == (
        "m",
        "probe",
        "k",
        "http://b",
    )


def test_get_llm_provider_rejects_an_unknown_provider(recorder: Recorder) -> None:
    with pytest.raises(llmctl.ProviderNotFoundError, match="did you mean 'probe'"):
        llmctl.get_llm_provider("prob/m1")


def test_async_handler_may_call_a_sync_stream_on_a_bridged_provider(register: Register) -> None:
    class Router(CustomLLM):
        async def acompletion(self, *args: Any, **kwargs: Any) -> ModelResponse:
            # sync code on the bridge loop, streaming from an async-only provider
            chunks = list(llmctl.completion("inner/m", MESSAGES, stream=True))
            return _answer("".join(c.choices[0].delta.content or "" for c in chunks))

    llmctl.custom_provider_map = [
        {"provider": "router", "custom_handler": Router()},
        {"provider": "inner", "custom_handler": OnlyAsync()},
    ]
    assert llmctl.completion("router/m", MESSAGES).choices[0].message.content == "ab"


def test_bridged_sync_calls_work_in_a_forked_child(tmp_path: Any) -> None:
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import os, signal, llmctl
        from llmctl import CustomLLM, ModelResponse

        class OnlyAsync(CustomLLM):
            async def acompletion(self, **kwargs):
                return ModelResponse(choices=[{"message": {"content": "ok"}}])

        llmctl.custom_provider_map = [{"provider": "p", "custom_handler": OnlyAsync()}]
        llmctl.completion("p/m")  # starts the bridge loop in the parent
        pid = os.fork()
        if pid == 0:
            signal.alarm(10)
            os._exit(0 if llmctl.completion("p/m").choices[0].message.content == "ok" else 1)
        print(os.waitpid(pid, 0)[1])
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "0", out.stderr
