"""Errors know their status; a handler's errors become the class of their status."""

from __future__ import annotations

from typing import Any

import pytest

import llmctl
from conftest import MESSAGES, Register
from llmctl import CustomLLM, CustomLLMError, exceptions


class Raises(CustomLLM):
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def completion(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, llmctl.BadRequestError),
        (401, llmctl.AuthenticationError),
        (403, llmctl.PermissionDeniedError),
        (404, llmctl.NotFoundError),
        (408, llmctl.Timeout),
        (422, llmctl.UnprocessableEntityError),
        (429, llmctl.RateLimitError),
        (500, llmctl.InternalServerError),
        (502, llmctl.BadGatewayError),
        (503, llmctl.ServiceUnavailableError),
        (504, llmctl.Timeout),
        (418, llmctl.BadRequestError),
        (451, llmctl.BadRequestError),
        (507, llmctl.InternalServerError),
    ],
)
def test_custom_llm_error_becomes_the_class_of_its_status(
    register: Register, status: int, cls: type[llmctl.LLMCtlError]
) -> None:
    register(p=Raises(CustomLLMError(status, "backend says no")))
    with pytest.raises(cls) as info:
        llmctl.completion("p/m", MESSAGES)
    error = info.value
    assert type(error) is cls
    assert (error.status_code, error.message) == (status, "backend says no")
    assert (error.llm_provider, error.model) == ("p", "p/m")
    assert str(error) == "backend says no (provider 'p', model 'p/m')"
    assert isinstance(error.__cause__, CustomLLMError)


def test_any_other_exception_becomes_an_internal_server_error_with_the_cause(
    register: Register,
) -> None:
    original = ValueError("bad value")
    register(p=Raises(original))
    with pytest.raises(llmctl.InternalServerError) as info:
        llmctl.completion("p/m", MESSAGES)
    assert info.value.message == "the handler raised ValueError: bad value"
    assert info.value.__cause__ is original


def test_a_timeout_error_becomes_timeout(register: Register) -> None:
    register(p=Raises(TimeoutError("read timed out")))
    with pytest.raises(llmctl.Timeout, match="the handler timed out: read timed out"):
        llmctl.completion("p/m", MESSAGES)


def test_an_llmctl_error_from_a_handler_passes_through(register: Register) -> None:
    original = llmctl.RateLimitError("slow down", model="upstream")
    register(p=Raises(original))
    with pytest.raises(llmctl.RateLimitError) as info:
        llmctl.completion("p/m", MESSAGES)
    assert info.value is original
    assert (info.value.llm_provider, info.value.model) == ("p", "upstream")


def test_errors_render_in_openais_error_shape() -> None:
    error = llmctl.RateLimitError("slow down", param="model", code="rate_limit_exceeded")
    assert error.to_dict() == {
        "error": {
            "message": "slow down",
            "type": "rate_limit_error",
            "param": "model",
            "code": "rate_limit_exceeded",
        }
    }
    assert llmctl.NotFoundError("gone").to_dict()["error"]["code"] == "404"


def test_every_error_class_is_exported_at_the_top_level() -> None:
    for name in exceptions.__all__:
        value = getattr(exceptions, name)
        if isinstance(value, type):
            assert getattr(llmctl, name) is value


def test_custom_llm_error_imports_from_litellms_path() -> None:
    from llmctl.llms.custom_llm import CustomLLM as PathCustomLLM
    from llmctl.llms.custom_llm import CustomLLMError as PathError

    assert (PathError, PathCustomLLM) == (CustomLLMError, CustomLLM)
