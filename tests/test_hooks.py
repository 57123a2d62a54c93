"""Call hooks: pre_call, post_call and on_error run for every call, in pluggy's order."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterator
from typing import Any

import pluggy
import pytest

import llmctl
from conftest import MESSAGES, Register, SitePackages
from llmctl.hooks import call_hooks
from llmctl.request import CallRequest


class EchoLLM(llmctl.CustomLLM):
    """Answers with the last message and the optional params it received."""

    def completion(self, *args: Any, **kwargs: Any) -> llmctl.ModelResponse:
        text = f"{kwargs['messages'][-1]['content']} {sorted(kwargs['optional_params'])}"
        return llmctl.ModelResponse(choices=[{"message": {"content": text}}])

    def streaming(self, *args: Any, **kwargs: Any) -> Iterator[llmctl.GenericStreamingChunk]:
        for word in ("one", " two"):
            yield {"text": word, "is_finished": False, "finish_reason": None, "index": 0}  # type: ignore[typeddict-item]
        yield {"text": "", "is_finished": True, "finish_reason": "stop", "index": 0}  # type: ignore[typeddict-item]

    def embedding(self, *args: Any, **kwargs: Any) -> llmctl.EmbeddingResponse:
        return llmctl.EmbeddingResponse(data=[{"embedding": [0.5], "index": 0}])


class Recorder:
    """A call-hook plugin that records what it saw and redacts 'secret'."""

    def __init__(self, label: str = "rec") -> None:
        self.label = label
        self.events: list[tuple[str, Any]] = []
        self.responses: list[Any] = []

    @llmctl.hookimpl
    def pre_call(self, request: CallRequest) -> None:
        self.events.append(("pre", request.operation))
        if request.operation == "completion":
            request.payload = [
                {**m, "content": m["content"].replace("secret", "[redacted]")}
                for m in request.payload
            ]
            request.optional_params["seen_by"] = self.label

    @llmctl.hookimpl
    def post_call(self, request: CallRequest, response: Any) -> None:
        self.events.append(("post", type(response).__name__))
        self.responses.append(response)
        if isinstance(response, llmctl.ModelResponse) and not request.stream:
            response.choices[0].message.content += f" +{self.label}"

    @llmctl.hookimpl
    def on_error(self, request: CallRequest, error: llmctl.LLMCtlError) -> None:
        self.events.append(("error", type(error).__name__))


@pytest.fixture
def recorder(register: Register) -> Iterator[Recorder]:
    register(echo=EchoLLM())
    plugin = Recorder()
    llmctl.register_hooks(plugin)
    yield plugin
    llmctl.unregister_hooks(plugin)


def test_pre_call_rewrites_the_request_and_post_call_the_response(recorder: Recorder) -> None:
    messages = [{"role": "user", "content": "my secret"}]
    response = llmctl.completion("echo/m", messages, temperature=0.1)
    assert response.choices[0].message.content == "my [redacted] ['seen_by', 'temperature'] +rec"
    assert messages == [{"role": "user", "content": "my secret"}]  # the caller's list is intact
    assert recorder.events == [("pre", "completion"), ("post", "ModelResponse")]


def test_hooks_run_for_async_calls_and_embeddings(recorder: Recorder) -> None:
    response = asyncio.run(llmctl.acompletion("echo/m", MESSAGES))
    assert response.choices[0].message.content.endswith("+rec")
    llmctl.embedding("echo/m", input="x")
    assert recorder.events == [
        ("pre", "completion"),
        ("post", "ModelResponse"),
        ("pre", "embedding"),
        ("post", "EmbeddingResponse"),
    ]


def test_post_call_sees_a_stream_once_rebuilt_after_its_last_chunk(recorder: Recorder) -> None:
    stream = llmctl.completion("echo/m", MESSAGES, stream=True)
    assert recorder.events == [("pre", "completion")]
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "one two"
    assert recorder.events == [("pre", "completion"), ("post", "ModelResponse")]
    assert recorder.responses[0].choices[0].message.content == "one two"

    async def consume() -> None:
        chunks = await llmctl.acompletion("echo/m", MESSAGES, stream=True)
        async for _ in chunks:
            pass

    asyncio.run(consume())
    assert [r.choices[0].message.content for r in recorder.responses] == ["one two"] * 2


def test_on_error_sees_the_error_the_caller_gets(recorder: Recorder) -> None:
    with pytest.raises(llmctl.ProviderNotFoundError):
        llmctl.completion("nope/m", MESSAGES)
    with pytest.raises(llmctl.UnsupportedOperationError):
        llmctl.image_generation("a cat", model="echo/m")
    assert recorder.events == [
        ("pre", "completion"),
        ("error", "ProviderNotFoundError"),
        ("pre", "image_generation"),
        ("error", "UnsupportedOperationError"),
    ]


def test_a_pre_call_hook_refuses_a_call_with_its_own_error(register: Register) -> None:
    register(echo=EchoLLM())

    class Guardrail:
        @llmctl.hookimpl
        def pre_call(self, request: CallRequest) -> None:
            if "forbidden" in str(request.payload):
                raise llmctl.ContentPolicyViolationError("the guardrail refused this prompt")

    class Buggy:
        @llmctl.hookimpl(trylast=True)
        def pre_call(self, request: CallRequest) -> None:
            raise KeyError("oops")

    guard, buggy = Guardrail(), Buggy()
    llmctl.register_hooks(guard)
    try:
        with pytest.raises(llmctl.ContentPolicyViolationError, match="guardrail refused"):
            llmctl.completion("echo/m", [{"role": "user", "content": "forbidden"}])
        llmctl.register_hooks(buggy)
        with pytest.raises(llmctl.InternalServerError, match="KeyError: 'oops'"):
            llmctl.completion("echo/m", MESSAGES)
    finally:
        llmctl.unregister_hooks(guard)
        llmctl.unregister_hooks(buggy)
    assert llmctl.completion("echo/m", MESSAGES).choices[0].message.content.startswith("Hello")


def test_hooks_run_last_registered_first_unless_marked(recorder: Recorder) -> None:
    order: list[str] = []

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

        @llmctl.hookimpl
        def pre_call(self) -> None:
            order.append(self.name)

    class First:
        @llmctl.hookimpl(tryfirst=True)
        def pre_call(self) -> None:
            order.append("first")

    plugins = [First(), Named("a"), Named("b")]
    for plugin in plugins:
        llmctl.register_hooks(plugin)
    try:
        llmctl.completion("echo/m", MESSAGES)
    finally:
        for plugin in plugins:
            llmctl.unregister_hooks(plugin)
    assert order == ["first", "b", "a"]


def test_an_on_error_hook_that_raises_is_logged_and_the_error_stands(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    class Noisy:
        @llmctl.hookimpl
        def on_error(self) -> None:
            raise RuntimeError("logger down")

    noisy = Noisy()
    llmctl.register_hooks(noisy)
    try:
        with caplog.at_level(logging.ERROR, "llmctl"), pytest.raises(llmctl.ProviderNotFoundError):
            llmctl.completion("nope/m", MESSAGES)
    finally:
        llmctl.unregister_hooks(noisy)
    assert "an on_error hook raised" in caplog.text


def test_a_hook_that_does_not_match_the_specs_is_refused() -> None:
    class Wrong:
        @llmctl.hookimpl
        def pre_call(self, request: CallRequest, extra: int) -> None:
            pass

    class Misspelt:
        @llmctl.hookimpl
        def precall(self, request: CallRequest) -> None:
            pass

    with pytest.raises(pluggy.PluginValidationError, match="extra"):
        llmctl.register_hooks(Wrong())
    with pytest.raises(pluggy.PluginValidationError, match="precall"):
        llmctl.register_hooks(Misspelt())
    assert call_hooks.active() is None


def test_after_unregistering_the_last_hook_calls_take_the_fast_path(recorder: Recorder) -> None:
    assert call_hooks.active() is not None
    llmctl.unregister_hooks(recorder)
    assert call_hooks.active() is None
    llmctl.completion("echo/m", MESSAGES)
    assert recorder.events == []


HOOK_PLUGIN = """
import llmctl

SEEN = []

@llmctl.hookimpl
def post_call(request, response):
    SEEN.append(request.model)
"""


def test_hook_plugins_are_discovered_and_a_broken_one_is_left_out(
    site: SitePackages, register: Register, caplog: pytest.LogCaptureFixture
) -> None:
    register(echo=EchoLLM())
    site.add(
        "llmctl-audit", {"llmctl.hooks": {"audit": "audit_hooks"}}, {"audit_hooks": HOOK_PLUGIN}
    )
    site.add("llmctl-bad", {"llmctl.hooks": {"bad": "bad_hooks"}}, {"bad_hooks": "1/0\n"})
    with caplog.at_level(logging.WARNING, "llmctl"):
        llmctl.completion("echo/m", MESSAGES)
    import audit_hooks  # type: ignore[import-not-found]

    assert audit_hooks.SEEN == ["echo/m"]
    assert "llmctl-bad 1.0" in caplog.text and "ZeroDivisionError" in caplog.text
    assert [str(e) for e in call_hooks.errors] == [caplog.records[0].getMessage()]


def test_closing_a_stream_early_still_closes_the_handlers_generator(register: Register) -> None:
    closed: list[str] = []

    class Endless(llmctl.CustomLLM):
        def streaming(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                while True:
                    yield {"text": "x", "is_finished": False, "finish_reason": None, "index": 0}
            finally:
                closed.append("sync")

        async def astreaming(self, *args: Any, **kwargs: Any) -> Any:
            try:
                while True:
                    yield {"text": "x", "is_finished": False, "finish_reason": None, "index": 0}
            finally:
                closed.append("async")

    register(endless=Endless())
    plugin = Recorder()
    llmctl.register_hooks(plugin)
    try:
        with llmctl.completion("endless/m", MESSAGES, stream=True) as stream:
            next(iter(stream))

        async def read_one() -> None:
            async with await llmctl.acompletion("endless/m", MESSAGES, stream=True) as chunks:
                await anext(aiter(chunks))

        asyncio.run(read_one())
    finally:
        llmctl.unregister_hooks(plugin)
    assert closed == ["sync", "async"]
    assert plugin.events == [("pre", "completion"), ("pre", "completion")]  # no post_call


def test_returned_values_replace_the_request_and_the_response_in_order(
    register: Register,
) -> None:
    register(echo=EchoLLM())

    class Rewrite:
        @llmctl.hookimpl(tryfirst=True)
        def pre_call(self, request: CallRequest) -> CallRequest:
            return CallRequest.build("completion", "echo/m", [{"content": "rewritten"}], {})

        @llmctl.hookimpl(tryfirst=True)
        def post_call(self, response: llmctl.ModelResponse) -> llmctl.ModelResponse:
            return llmctl.ModelResponse(choices=[{"message": {"content": "replaced"}}])

    class Sees:
        @llmctl.hookimpl
        def pre_call(self, request: CallRequest) -> None:
            request.payload[0]["content"] += " and seen"

        @llmctl.hookimpl
        def post_call(self, response: llmctl.ModelResponse) -> None:
            response.choices[0].message.content += " last"

    plugins = [Sees(), Rewrite()]
    for plugin in plugins:
        llmctl.register_hooks(plugin)
    try:
        reply = llmctl.completion("echo/m", MESSAGES)
    finally:
        for plugin in plugins:
            llmctl.unregister_hooks(plugin)
    assert reply.choices[0].message.content == "replaced last"


def test_a_pre_call_returning_no_request_fails_the_call_clearly(register: Register) -> None:
    register(echo=EchoLLM())

    class Confused:
        @llmctl.hookimpl
        def pre_call(self, request: CallRequest) -> dict[str, Any]:
            return {"model": "echo/m"}

    plugin = Confused()
    llmctl.register_hooks(plugin)
    try:
        with pytest.raises(llmctl.InternalServerError, match=r"pre_call hook of .* returned dict"):
            llmctl.completion("echo/m", MESSAGES)
    finally:
        llmctl.unregister_hooks(plugin)


def test_failures_after_the_provider_reach_on_error_as_llmctl_errors(
    recorder: Recorder, register: Register
) -> None:
    class Strict(EchoLLM):
        def get_supported_openai_params(self, model: str) -> list[str]:
            raise KeyError(model)

    class BrokenPost:
        @llmctl.hookimpl
        def post_call(self) -> None:
            raise ValueError("metering is down")

    register(echo=EchoLLM(), strict=Strict())
    with pytest.raises(llmctl.InternalServerError, match="KeyError"):
        llmctl.completion("strict/m", MESSAGES)
    broken = BrokenPost()
    llmctl.register_hooks(broken)
    try:
        with pytest.raises(llmctl.InternalServerError, match="metering is down"):
            list(llmctl.completion("echo/m", MESSAGES, stream=True))

        async def consume() -> None:
            async for _ in await llmctl.acompletion("echo/m", MESSAGES, stream=True):
                pass

        with pytest.raises(llmctl.InternalServerError, match="metering is down"):
            asyncio.run(consume())
    finally:
        llmctl.unregister_hooks(broken)
    errors = [event for event in recorder.events if event[0] == "error"]
    assert errors == [("error", "InternalServerError")] * 3


def test_wrappers_and_unhashable_plugins_are_refused_clearly() -> None:
    class Wrapper:
        @llmctl.hookimpl(wrapper=True)
        def post_call(self) -> Iterator[None]:
            return (yield)

    @dataclasses.dataclass
    class Unhashable:
        name: str = "x"

        @llmctl.hookimpl
        def pre_call(self) -> None:
            pass

    with pytest.raises(pluggy.PluginValidationError, match="call hooks chain by return value"):
        llmctl.register_hooks(Wrapper())
    with pytest.raises(TypeError, match=r"@dataclass\(eq=False\)"):
        llmctl.register_hooks(Unhashable())
    assert call_hooks.active() is None
