"""``mock_response``: answer a call without any provider, as LiteLLM does in tests.

``completion(model=..., mock_response="Hi!")`` answers "Hi!" on any model, with or without a
provider prefix, streamed or not. ``mock_response`` may also be an exception instance, or an
error's name such as ``"llmctl.RateLimitError"`` (``"litellm.RateLimitError"`` too), raised as
llmctl's error class.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from llmctl import exceptions
from llmctl.streaming import response_chunks
from llmctl.types.responses import ModelResponse

__all__ = ["mock_model", "mock_response_for", "mock_stream_chunks", "raise_if_error"]

#: The usage every mock answer reports, as LiteLLM's does.
MOCK_USAGE = {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}
#: The text of a mock answer that gives only ``mock_tool_calls``, as LiteLLM's.
DEFAULT_MOCK_TEXT = "This is a mock request"
#: Characters per content chunk of a streamed mock answer, as in LiteLLM.
MOCK_CHUNK_SIZE = 3


def mock_model(model: str) -> str:
    """Return the model name a mock answer carries: ``model`` without its provider prefix."""
    return model.partition("/")[2] or model


def raise_if_error(mock_response: Any, model: str) -> None:
    """Raise the error ``mock_response`` names, if it names one."""
    if isinstance(mock_response, BaseException):
        error = exceptions.from_handler_exception(mock_response, llm_provider=None, model=model)
        if error is mock_response:
            raise error
        raise error from mock_response
    if isinstance(mock_response, str):
        prefix, dot, name = mock_response.partition(".")
        if dot and prefix in ("llmctl", "litellm"):
            cls = getattr(exceptions, name, None)
            if isinstance(cls, type) and issubclass(cls, exceptions.LLMCtlError):
                raise cls(f"mock {name}, as mock_response={mock_response!r} asked", model=model)


def mock_response_for(model: str, kwargs: Mapping[str, Any]) -> ModelResponse:
    """Build the complete response a mock call answers.

    :param kwargs: the call's keywords: ``mock_response`` (the text, a dict of a whole
        response, an exception or an error's name), ``mock_tool_calls`` (tool calls for the
        message), ``mock_timeout`` (raise :class:`~llmctl.exceptions.Timeout`).
    :raises LLMCtlError: the mock asks for an error.
    """
    if kwargs.get("mock_timeout"):
        raise exceptions.Timeout("mock timeout, as mock_timeout=True asked", model=model)
    mock_response = kwargs.get("mock_response", DEFAULT_MOCK_TEXT)
    raise_if_error(mock_response, model)
    if isinstance(mock_response, Mapping):
        return ModelResponse.model_validate({"model": mock_model(model), **mock_response})
    message: dict[str, Any] = {"content": str(mock_response), "role": "assistant"}
    if kwargs.get("mock_tool_calls"):
        message["tool_calls"] = [
            {"id": f"call_{os.urandom(12).hex()}", **call} for call in kwargs["mock_tool_calls"]
        ]
    return ModelResponse.model_validate(
        {
            "choices": [{"finish_reason": "stop", "index": 0, "message": message}],
            "model": mock_model(model),
            "usage": MOCK_USAGE,
        }
    )


def mock_stream_chunks(response: ModelResponse) -> list[dict[str, Any]]:
    """Return a mock response as handler chunks of :data:`MOCK_CHUNK_SIZE` characters."""
    chunks: list[dict[str, Any]] = []
    for chunk in response_chunks(response):
        text = chunk.get("text") or ""
        if len(text) <= MOCK_CHUNK_SIZE:
            chunks.append(chunk)
            continue
        for i in range(0, len(text), MOCK_CHUNK_SIZE):
            chunks.append({**chunk, "text": text[i : i + MOCK_CHUNK_SIZE]})
    return chunks
