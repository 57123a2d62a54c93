"""The server's complete answers as llmctl's responses: OpenAI's JSON, validated once.

The answer is already OpenAI's shape, so it is validated as it is, in one pass: the server's
``id``, ``created`` and ``model``, every choice's content, tool calls and finish reason, and
the usage are kept, and so are the fields OpenAI does not define (vLLM's ``stop_reason`` and
``reasoning_content``, ``prompt_logprobs``, ...). A body that is not the answer it should be
raises :class:`~llmctl.exceptions.BadGatewayError` naming the server and the request.
"""

from __future__ import annotations

from typing import Any, TypeVar

from llmctl import EmbeddingResponse, ImageResponse, ModelResponse
from llmctl.exceptions import BadGatewayError
from llmctl.http import Endpoint

__all__ = ["embedding_response", "image_response", "model_ids", "model_response"]

_R = TypeVar("_R", ModelResponse, EmbeddingResponse, ImageResponse)


def model_response(data: Any, endpoint: Endpoint) -> ModelResponse:
    """Return the answer of ``POST /v1/chat/completions`` as a :class:`ModelResponse`."""
    return _validate(data, "choices", ModelResponse, endpoint, "chat/completions")


def embedding_response(data: Any, endpoint: Endpoint) -> EmbeddingResponse:
    """Return the answer of ``POST /v1/embeddings`` as an :class:`EmbeddingResponse`."""
    return _validate(data, "data", EmbeddingResponse, endpoint, "embeddings")


def image_response(data: Any, endpoint: Endpoint) -> ImageResponse:
    """Return the answer of ``POST /v1/images/generations`` as an :class:`ImageResponse`."""
    return _validate(data, "data", ImageResponse, endpoint, "images/generations")


def model_ids(data: Any, endpoint: Endpoint) -> list[str]:
    """Return the ids of the models in the answer of ``GET /v1/models``."""
    models = data.get("data") if isinstance(data, dict) else None
    if not isinstance(models, list):
        raise _not_an_answer(endpoint, "GET", "models", "a model list", repr(data))
    return [str(m["id"]) for m in models if isinstance(m, dict) and "id" in m]


def _validate(data: Any, key: str, cls: type[_R], endpoint: Endpoint, path: str) -> _R:
    if not isinstance(data, dict) or not isinstance(data.get(key), list):
        raise _not_an_answer(endpoint, "POST", path, f"a {key!r} list", repr(data))
    if "usage" in data and data["usage"] is None:
        del data["usage"]  # some servers send null where OpenAI leaves usage out
    try:
        return cls.model_validate(data)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        raise _not_an_answer(endpoint, "POST", path, f"a valid {cls.__name__}", str(exc)) from None


def _not_an_answer(
    endpoint: Endpoint, method: str, path: str, expected: str, got: str
) -> BadGatewayError:
    return BadGatewayError(
        f"{endpoint.provider} answered {method} {endpoint.url(path)} with a body that is not "
        f"{expected}: {got:.300}; is api_base the address of an OpenAI-compatible server?",
        llm_provider=endpoint.provider,
        model=endpoint.model,
    )
