"""``llmctl.testing``: a conforming provider passes; one that breaks a rule is told which."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from typing import Any

import importlib_metadata  # noqa: F401  # see pytest_plugins below
import pytest

import llmctl
from conftest import Register
from llmctl import (
    CustomLLM,
    CustomLLMError,
    EmbeddingResponse,
    GenericStreamingChunk,
    ImageResponse,
    ModelResponse,
)
from llmctl.testing import ERROR_CLASSES, ProviderConformance

# The in-process runs below restore sys.meta_path afterwards. Importing importlib_metadata
# (which llmctl reads entry points with) disables the stdlib's distribution finder and appends
# its own; were it first imported inside a run, the restore would drop the new finder and leave
# importlib.metadata finding nothing for the rest of the session. So it is imported here first.
pytest_plugins = ["pytester"]

USAGE = {"prompt_tokens": 4, "completion_tokens": 2}
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()


def fail_if_asked(optional_params: dict[str, Any]) -> None:
    if "fail_status" in optional_params:
        status = optional_params["fail_status"]
        raise CustomLLMError(status_code=status, message=f"fail_status={status} asked for it")


class GoodLLM(CustomLLM):
    """Keeps the whole contract: every operation, usage, errors by status."""

    def completion(
        self, *, model: str, messages: list[Any], optional_params: dict[str, Any], **kwargs: Any
    ) -> ModelResponse:
        fail_if_asked(optional_params)
        return ModelResponse(
            model=model,
            choices=[{"message": {"content": messages[-1]["content"]}, "finish_reason": "stop"}],
            usage=USAGE,
        )

    async def acompletion(self, **kwargs: Any) -> ModelResponse:
        return self.completion(**kwargs)

    def streaming(
        self, *, messages: list[Any], optional_params: dict[str, Any], **kwargs: Any
    ) -> Iterator[GenericStreamingChunk]:
        fail_if_asked(optional_params)
        words = messages[-1]["content"].split(" ")
        for n, word in enumerate(words):
            last = n == len(words) - 1
            yield {
                "text": word if n == 0 else " " + word,
                "tool_use": None,
                "is_finished": last,
                "finish_reason": "stop" if last else "",
                "usage": {**USAGE, "total_tokens": 6} if last else None,  # type: ignore[typeddict-item]
            }

    async def astreaming(self, **kwargs: Any) -> AsyncIterator[GenericStreamingChunk]:
        for chunk in self.streaming(**kwargs):
            yield chunk

    def image_generation(self, *, optional_params: dict[str, Any], **kwargs: Any) -> ImageResponse:
        fail_if_asked(optional_params)
        return ImageResponse(data=[{"b64_json": PNG}])

    def embedding(
        self, *, model: str, input: Any, optional_params: dict[str, Any], **kwargs: Any
    ) -> EmbeddingResponse:
        fail_if_asked(optional_params)
        inputs = input if isinstance(input, list) else [input]
        data = [{"embedding": [float(len(text)), 1.0], "index": i} for i, text in enumerate(inputs)]
        return EmbeddingResponse(model=model, data=data, usage={"prompt_tokens": len(inputs)})

    def get_supported_openai_params(self, model: str) -> list[str]:
        return ["max_tokens", "temperature"]

    def health_check(self) -> dict[str, str]:
        return {"status": "ok"}


class ChatOnlyLLM(CustomLLM):
    """Only completion: llmctl bridges the rest of chat; images and embeddings are absent."""

    def completion(self, *, messages: list[Any], **kwargs: Any) -> ModelResponse:
        return ModelResponse(choices=[{"message": {"content": "hello"}}])


class Suite(ProviderConformance):
    """The kit against whatever `register(kit=...)` put under the name "kit"."""

    model = "kit/m"
    deterministic = True

    def error_kwargs(self, status_code: int) -> dict[str, Any] | None:
        return {"fail_status": status_code}


def contract_failure(test: Any, *args: Any) -> str:
    with pytest.raises(AssertionError) as info:
        test(*args)
    return str(info.value)


# -- the whole suite, as pytest runs it in a plugin's tests -----------------------------------


def write_suite(pytester: pytest.Pytester, body: str) -> None:
    pytester.makepyfile(
        test_provider=f"from llmctl.testing import ProviderConformance\n"
        f"from {__name__} import ChatOnlyLLM, GoodLLM\n\n" + textwrap.dedent(body)
    )


def run_suite(pytester: pytest.Pytester) -> pytest.RunResult:
    # -p no:asyncio: the kit needs no pytest-asyncio, so the inner run goes without it.
    return pytester.runpytest_inprocess("-p", "no:asyncio", "-W", "error", "-rs")


def test_a_conforming_provider_passes_the_whole_suite(pytester: pytest.Pytester) -> None:
    write_suite(
        pytester,
        """
        class TestGood(ProviderConformance):
            model = "good/echo"
            handler = GoodLLM()
            deterministic = True

            def error_kwargs(self, status_code):
                return {"fail_status": status_code}
        """,
    )
    result = run_suite(pytester)
    result.assert_outcomes(passed=26)


def test_the_handler_class_attribute_is_registered_only_during_each_test(
    pytester: pytest.Pytester,
) -> None:
    before = llmctl.custom_provider_map = [{"provider": "other", "custom_handler": GoodLLM()}]
    write_suite(
        pytester,
        """
        import llmctl

        class TestGood(ProviderConformance):
            model = "good/echo"
            handler = GoodLLM  # a class is instantiated, as an entry point's would be

            def test_registered_beside_the_others(self):
                names = [e["provider"] for e in llmctl.custom_provider_map]
                assert names == ["other", "good"]
        """,
    )
    result = run_suite(pytester)
    result.assert_outcomes(passed=15, skipped=12)
    assert llmctl.custom_provider_map is before


def test_without_error_kwargs_the_error_tests_skip_and_say_why(pytester: pytest.Pytester) -> None:
    write_suite(
        pytester,
        """
        class TestChatOnly(ProviderConformance):
            model = "chat/m"
            handler = ChatOnlyLLM()
        """,
    )
    result = run_suite(pytester)
    # images and embeddings pass by raising UnsupportedOperationError; no health check,
    # no declared params, no error_kwargs: those skip.
    result.assert_outcomes(passed=12, skipped=14)
    result.stdout.fnmatch_lines(
        [
            "*the health check did not run: the provider has no health_check*",
            "*TestChatOnly.error_kwargs(429) returned None; override error_kwargs(self, "
            "status_code)*",
        ]
    )


def test_a_failure_reads_as_what_went_wrong_and_the_contract(pytester: pytest.Pytester) -> None:
    write_suite(
        pytester,
        """
        class BadTotalStream(GoodLLM):
            def streaming(self, **kwargs):
                for chunk in super().streaming(**kwargs):
                    if chunk["usage"]:
                        chunk = {**chunk, "usage": {**chunk["usage"], "total_tokens": 60}}
                    yield chunk

            async def astreaming(self, **kwargs):
                for chunk in self.streaming(**kwargs):
                    yield chunk

        class TestBadTotal(ProviderConformance):
            model = "badtotal/m"
            handler = BadTotalStream()
        """,
    )
    result = run_suite(pytester)
    result.assert_outcomes(failed=4, passed=10, skipped=12)
    result.stdout.fnmatch_lines(
        [
            "*completion(model='badtotal/m', stream=True) returned chunk * usage.total_tokens=60,"
            " but prompt_tokens + completion_tokens*",
            "*The contract: total_tokens is prompt_tokens + completion_tokens*",
        ]
    )
    assert "ProviderConformance" not in result.stdout.str()  # the kit's frames are hidden


def test_a_provider_that_is_not_installed_is_told_how_to_install_it(
    pytester: pytest.Pytester,
) -> None:
    write_suite(
        pytester,
        """
        class TestMissing(ProviderConformance):
            model = "nosuchprovider/m"
        """,
    )
    result = run_suite(pytester)
    result.stdout.fnmatch_lines(
        [
            "*no provider 'nosuchprovider' is registered*",
            "*declare an entry point named 'nosuchprovider' in the group 'litellm.providers'*",
        ]
    )


def test_a_model_without_provider_fails_every_test_with_the_fix(pytester: pytest.Pytester) -> None:
    write_suite(
        pytester,
        """
        class TestNoModel(ProviderConformance):
            handler = GoodLLM()
        """,
    )
    result = run_suite(pytester)
    result.assert_outcomes(errors=26)
    result.stdout.fnmatch_lines(
        ["*TestNoModel.model is ''; set it to '<provider>/<model>', for example*"]
    )


# -- each rule, broken once -------------------------------------------------------------------


def test_a_conforming_provider_passes_each_rule_called_directly(register: Register) -> None:
    register(kit=GoodLLM())
    suite = Suite()
    suite.test_provider_loads()
    suite.test_completion()
    suite.test_acompletion()
    suite.test_streaming()
    suite.test_astreaming()
    suite.test_stream_include_usage("async")
    suite.test_image_generation("sync")
    suite.test_embedding("async")
    for status, error_class in ERROR_CLASSES.items():
        suite.test_error_status_maps_to_class(status, error_class)


def test_a_missing_finish_reason_fails_completion(register: Register) -> None:
    class NoFinishReason(GoodLLM):
        def completion(self, **kwargs: Any) -> ModelResponse:
            response = super().completion(**kwargs)
            response.choices[0].finish_reason = None  # type: ignore[assignment]
            return response

    register(kit=NoFinishReason())
    message = contract_failure(Suite().test_completion)
    assert message.startswith("completion(model='kit/m') returned choices[0].finish_reason=None.")
    assert "The contract: every choice says why it ended: one of content_filter" in message


def test_a_total_that_is_not_the_sum_fails_usage(register: Register) -> None:
    class WrongTotal(GoodLLM):
        def completion(self, **kwargs: Any) -> ModelResponse:
            response = super().completion(**kwargs)
            response.usage.total_tokens = 7
            return response

    register(kit=WrongTotal())
    message = contract_failure(Suite().test_completion)
    assert message == (
        "completion(model='kit/m') returned usage.total_tokens=7, but prompt_tokens + "
        "completion_tokens = 4 + 2 = 6.\nThe contract: total_tokens is prompt_tokens + "
        "completion_tokens (leave it out and llmctl adds them up)."
    )


def test_a_wrong_total_in_a_stream_fails_streaming(register: Register) -> None:
    class WrongStreamTotal(GoodLLM):
        def streaming(self, **kwargs: Any) -> Iterator[GenericStreamingChunk]:
            for chunk in super().streaming(**kwargs):
                if chunk["usage"]:
                    chunk["usage"]["total_tokens"] = 60
                yield chunk

    register(kit=WrongStreamTotal())
    message = contract_failure(Suite().test_streaming)
    assert "stream=True) returned chunk 5 usage.total_tokens=60, but prompt_tokens" in message


def test_an_error_mapped_to_the_wrong_status_fails(register: Register) -> None:
    class AlwaysInternal(GoodLLM):
        def completion(self, *, optional_params: dict[str, Any], **kwargs: Any) -> ModelResponse:
            if "fail_status" in optional_params:
                raise RuntimeError("backend said 429")
            return super().completion(optional_params=optional_params, **kwargs)

    register(kit=AlwaysInternal())
    message = contract_failure(Suite().test_error_status_maps_to_class, 429, llmctl.RateLimitError)
    assert message.startswith(
        "completion(model='kit/m') with error_kwargs(429) = {'fail_status': 429} raised "
        "InternalServerError (status 500): the handler raised RuntimeError: backend said 429"
    )
    assert (
        "The contract: a backend failing with HTTP 429 reaches the caller as RateLimitError "
        "with status_code 429; raise CustomLLMError(status_code=429, message=...)" in message
    )


def test_error_kwargs_that_do_not_fail_the_call_fail_the_test(register: Register) -> None:
    class NeverFails(GoodLLM):
        def streaming(self, *, optional_params: dict[str, Any], **kwargs: Any) -> Any:
            params = {k: v for k, v in optional_params.items() if k != "fail_status"}
            return super().streaming(optional_params=params, **kwargs)

    register(kit=NeverFails())
    message = contract_failure(Suite().test_error_reaches_every_call_kind, "streaming")
    assert message.startswith(
        "streaming(model='kit/m') with error_kwargs(429) = {'fail_status': 429} answered "
        "instead of failing."
    )


def test_empty_content_fails_completion(register: Register) -> None:
    class Silent(GoodLLM):
        def completion(self, **kwargs: Any) -> ModelResponse:
            return ModelResponse(choices=[{"message": {"content": ""}}])

    register(kit=Silent())
    message = contract_failure(Suite().test_completion)
    assert "returned choices[0].message.content='' and no tool calls." in message
    assert "the answer to a plain question has non-empty text content" in message


def test_a_stream_that_differs_from_the_answer_fails_when_deterministic(
    register: Register,
) -> None:
    class Different(GoodLLM):
        def completion(self, **kwargs: Any) -> ModelResponse:
            response = super().completion(**kwargs)
            response.choices[0].message.content = "something else"
            return response

    register(kit=Different())
    message = contract_failure(Suite().test_astreaming)
    assert message.startswith(
        "acompletion(model='kit/m', stream=True) streamed the text 'Say hello in five words.', "
        "but completion() answered 'something else'."
    )


def test_one_vector_for_two_inputs_fails_embedding(register: Register) -> None:
    class OneVector(GoodLLM):
        def embedding(self, **kwargs: Any) -> EmbeddingResponse:
            return EmbeddingResponse(model="m", data=[{"embedding": [1.0]}])

    register(kit=OneVector())
    message = contract_failure(Suite().test_embedding, "sync")
    assert (
        "returned 1 embeddings for 2 inputs.\nThe contract: there is one embedding per input"
        in (message)
    )


def test_an_image_that_is_not_base64_fails_image_generation(register: Register) -> None:
    class BadImage(GoodLLM):
        def image_generation(self, **kwargs: Any) -> ImageResponse:
            return ImageResponse(data=[{"b64_json": "not base64!"}])

    register(kit=BadImage())
    message = contract_failure(Suite().test_image_generation, "async")
    assert "returned data[0].b64_json that is not base64" in message


def test_an_operation_not_declared_must_be_unsupported(register: Register) -> None:
    register(kit=ChatOnlyLLM())
    Suite().test_image_generation("sync")  # UnsupportedOperationError: passes
    Suite().test_embedding("async")


def test_a_failing_call_names_the_call_and_keeps_the_cause(register: Register) -> None:
    class Broken(GoodLLM):
        def completion(self, **kwargs: Any) -> ModelResponse:
            raise KeyError("choices")

    register(kit=Broken())
    with pytest.raises(AssertionError) as info:
        Suite().test_completion()
    assert str(info.value).startswith(
        "completion(model='kit/m') raised InternalServerError: the handler raised KeyError"
    )
    assert isinstance(info.value.__cause__, llmctl.InternalServerError)


def test_declared_params_must_be_a_list_of_names(register: Register) -> None:
    class BadParams(GoodLLM):
        def get_supported_openai_params(self, model: str) -> Any:
            return "temperature"

    register(kit=BadParams())
    message = contract_failure(Suite().test_supported_openai_params_is_a_list_of_names)
    assert message.startswith("get_supported_openai_params('m') returned 'temperature'.")


def test_an_undeclared_param_reaches_the_provider_only_when_dropped(register: Register) -> None:
    seen: list[dict[str, Any]] = []

    class Recording(GoodLLM):
        def completion(self, *, optional_params: dict[str, Any], **kwargs: Any) -> ModelResponse:
            seen.append(dict(optional_params))
            return super().completion(optional_params=optional_params, **kwargs)

    register(kit=Recording())
    Suite().test_undeclared_openai_param_is_refused_or_dropped()
    assert seen == [{}]  # refused before the handler, then dropped


def test_a_failing_health_check_fails_with_its_error(register: Register) -> None:
    class Down(GoodLLM):
        async def health_check(self, api_base: str | None = None) -> Any:  # type: ignore[override]
            raise CustomLLMError(status_code=503, message="backend is down")

    register(kit=Down())
    message = contract_failure(Suite().test_health_check)
    assert message.startswith("health_check() failed: CustomLLMError: backend is down.")


def test_import_llmctl_imports_neither_the_kit_nor_pytest() -> None:
    code = "import sys, json, llmctl; llmctl.completion; print(json.dumps(sorted(sys.modules)))"
    modules = set(json.loads(subprocess.check_output([sys.executable, "-c", code])))
    assert not {"llmctl.testing", "llmctl._conformance", "pytest", "_pytest"} & modules
