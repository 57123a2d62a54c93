"""``ExampleLLM``: the provider ``example``, a complete llmctl handler with no backend to run.

Models:

- ``example/echo`` answers with the last user message; ``example/reverse`` with it reversed.
- ``example/embed`` embeds text as deterministic unit vectors (8 dimensions by default).
- ``example/image`` draws one-colour PNG images, the colour derived from the prompt.

Every operation has a sync and an async method that share one path: the async ones would
``await`` an HTTP client where the sync ones block on it. Pass ``example_fail_status=<HTTP
status>`` to any call to make it fail with that status, as a real backend would.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Final

from llmctl import (
    Choices,
    CustomLLM,
    CustomLLMError,
    Embedding,
    EmbeddingResponse,
    GenericStreamingChunk,
    ImageObject,
    ImageResponse,
    Message,
    ModelResponse,
    Usage,
)
from llmctl.types import ChatCompletionUsageBlock

from llmctl_example import backend

__all__ = [
    "CHAT_MODELS",
    "CHAT_PARAMS",
    "EMBEDDING_MODELS",
    "EMBEDDING_PARAMS",
    "FAIL_PARAM",
    "IMAGE_MODELS",
    "IMAGE_PARAMS",
    "ExampleLLM",
]

#: Chat models: each answers the last user message.
CHAT_MODELS: Final = ("echo", "reverse")
#: Embedding models.
EMBEDDING_MODELS: Final = ("embed",)
#: Image models.
IMAGE_MODELS: Final = ("image",)

#: The OpenAI parameters the chat models honour. ``temperature`` is accepted (0 to 2) and has
#: no effect: the answers are deterministic. llmctl refuses any other OpenAI parameter, or
#: drops it when the call says ``drop_params=True``.
CHAT_PARAMS: Final = ("max_completion_tokens", "max_tokens", "stop", "temperature", "user")
#: The OpenAI parameters the embedding model honours.
EMBEDDING_PARAMS: Final = ("dimensions", "encoding_format", "user")
#: The OpenAI parameters the image model honours.
IMAGE_PARAMS: Final = ("n", "response_format", "size", "user")

#: A parameter of this provider's own: the HTTP status to fail the call with.
FAIL_PARAM: Final = "example_fail_status"

_DEFAULT_DIMENSIONS: Final = 8
_MAX_DIMENSIONS: Final = 1024
_DEFAULT_SIZE: Final = "256x256"
_MAX_SIDE: Final = 1024
_MAX_IMAGES: Final = 4


class ExampleLLM(CustomLLM):
    """The ``example`` provider; llmctl instantiates it once, without arguments.

    Each method receives the keyword arguments it declares (llmctl passes no others):
    ``model`` is the part of the model string after ``example/``, ``optional_params`` the
    call's OpenAI parameters and keywords of its own.
    """

    # -- chat ----------------------------------------------------------------------------------

    def completion(
        self, *, model: str, messages: list[Any], optional_params: dict[str, Any], **kwargs: Any
    ) -> ModelResponse:
        """Answer the last user message at once."""
        return _response(model, messages, optional_params)

    async def acompletion(
        self, *, model: str, messages: list[Any], optional_params: dict[str, Any], **kwargs: Any
    ) -> ModelResponse:
        """Answer the last user message at once, asynchronously."""
        return _response(model, messages, optional_params)

    def streaming(
        self, *, model: str, messages: list[Any], optional_params: dict[str, Any], **kwargs: Any
    ) -> Iterator[GenericStreamingChunk]:
        """Stream the answer word by word; the last chunk carries the finish reason and usage."""
        # A plain function returning an iterator, not a generator: a bad request then fails
        # the call itself, before any chunk, as an HTTP backend's error status would.
        return iter(_chunks(model, messages, optional_params))

    async def astreaming(
        self, *, model: str, messages: list[Any], optional_params: dict[str, Any], **kwargs: Any
    ) -> AsyncIterator[GenericStreamingChunk]:
        """Stream the answer word by word, asynchronously."""
        for chunk in _chunks(model, messages, optional_params):
            yield chunk

    # -- embeddings ----------------------------------------------------------------------------

    def embedding(
        self, *, model: str, input: str | list[Any], optional_params: dict[str, Any], **kwargs: Any
    ) -> EmbeddingResponse:
        """Embed each input as a unit vector derived from its text."""
        return _embeddings(model, input, optional_params)

    async def aembedding(
        self, *, model: str, input: str | list[Any], optional_params: dict[str, Any], **kwargs: Any
    ) -> EmbeddingResponse:
        """Embed each input, asynchronously."""
        return _embeddings(model, input, optional_params)

    # -- images --------------------------------------------------------------------------------

    def image_generation(
        self, *, model: str, prompt: str, optional_params: dict[str, Any], **kwargs: Any
    ) -> ImageResponse:
        """Draw ``n`` one-colour PNG images of ``size``."""
        return _images(model, prompt, optional_params)

    async def aimage_generation(
        self, *, model: str, prompt: str, optional_params: dict[str, Any], **kwargs: Any
    ) -> ImageResponse:
        """Draw the images, asynchronously."""
        return _images(model, prompt, optional_params)

    # -- what the provider declares ------------------------------------------------------------

    def get_supported_openai_params(self, model: str) -> list[str] | None:
        """Return the OpenAI parameters ``model`` honours; None for a model it does not serve.

        None lets the call through to :meth:`completion` & co., which then answer 404 naming
        the models there are, a clearer error than a refused parameter.
        """
        if model in CHAT_MODELS:
            return list(CHAT_PARAMS)
        if model in EMBEDDING_MODELS:
            return list(EMBEDDING_PARAMS)
        if model in IMAGE_MODELS:
            return list(IMAGE_PARAMS)
        return None

    def health_check(
        self, api_base: str | None = None, api_key: str | None = None, timeout: float | None = None
    ) -> dict[str, str]:
        """Report the backend's state without a billable call: always up, being in process.

        A real plugin would list its server's models (``GET /v1/models``) within ``timeout``.
        """
        return {"status": "ok"}


# -- the shared paths of the sync and async methods -------------------------------------------


def _answer(
    model: str, messages: list[Any], optional_params: Mapping[str, Any]
) -> tuple[str, str, ChatCompletionUsageBlock]:
    """Return the answer text, its finish reason and its usage, or raise the call's error."""
    _fail_if_asked(optional_params)
    _require_model(model, CHAT_MODELS, "chat")
    question = backend.last_user_text(messages)
    if question is None:
        raise CustomLLMError(400, "messages hold no user message; send at least one")
    temperature = optional_params.get("temperature", 1.0)
    if not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
        raise CustomLLMError(400, f"temperature must be between 0 and 2, got {temperature!r}")
    text, finish_reason = backend.reply(model, question), "stop"
    text = _cut_at_stop(text, optional_params.get("stop"))
    max_tokens = optional_params.get("max_tokens")
    if max_tokens is not None:
        if not isinstance(max_tokens, int) or max_tokens < 1:
            raise CustomLLMError(400, f"max_tokens must be a positive int, got {max_tokens!r}")
        words = text.split()
        if len(words) > max_tokens:
            text, finish_reason = " ".join(words[:max_tokens]), "length"
    prompt_tokens = sum(backend.count_tokens(backend.message_text(m)) for m in messages)
    usage: ChatCompletionUsageBlock = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": backend.count_tokens(text),
        "total_tokens": prompt_tokens + backend.count_tokens(text),
    }
    return text, finish_reason, usage


def _response(model: str, messages: list[Any], optional_params: Mapping[str, Any]) -> ModelResponse:
    text, finish_reason, usage = _answer(model, messages, optional_params)
    return ModelResponse(
        model=model,
        choices=[Choices(index=0, message=Message(content=text), finish_reason=finish_reason)],
        usage=Usage(**usage),
    )


def _chunks(
    model: str, messages: list[Any], optional_params: Mapping[str, Any]
) -> list[GenericStreamingChunk]:
    text, finish_reason, usage = _answer(model, messages, optional_params)
    words = text.split(" ")
    last = len(words) - 1
    return [
        {
            "text": word if n == 0 else " " + word,
            "tool_use": None,
            "is_finished": n == last,
            "finish_reason": finish_reason if n == last else "",
            "usage": usage if n == last else None,
            "index": 0,
        }
        for n, word in enumerate(words)
    ]


def _cut_at_stop(text: str, stop: Any) -> str:
    """Cut ``text`` before the first of the stop sequences (a string or a list of them)."""
    sequences = [stop] if isinstance(stop, str) else list(stop or ())
    cuts = [text.find(s) for s in sequences if isinstance(s, str) and s and s in text]
    return text[: min(cuts)] if cuts else text


def _embeddings(
    model: str, input: str | list[Any], optional_params: Mapping[str, Any]
) -> EmbeddingResponse:
    _fail_if_asked(optional_params)
    _require_model(model, EMBEDDING_MODELS, "embedding")
    texts = [input] if isinstance(input, str) else input
    if not all(isinstance(text, str) for text in texts):
        raise CustomLLMError(
            400,
            "input must be a string or a list of strings; token lists "
            "are not supported by example/embed",
        )
    dimensions = optional_params.get("dimensions", _DEFAULT_DIMENSIONS)
    if not isinstance(dimensions, int) or not 1 <= dimensions <= _MAX_DIMENSIONS:
        raise CustomLLMError(
            400, f"dimensions must be an int from 1 to {_MAX_DIMENSIONS}, got {dimensions!r}"
        )
    encoding = optional_params.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise CustomLLMError(400, f"encoding_format must be 'float' or 'base64', got {encoding!r}")
    data = []
    for index, text in enumerate(texts):
        vector = backend.embed(text, dimensions)
        value = backend.vector_as_base64(vector) if encoding == "base64" else vector
        data.append(Embedding(index=index, embedding=value))
    tokens = sum(backend.count_tokens(text) for text in texts)
    return EmbeddingResponse(
        model=model, data=data, usage=Usage(prompt_tokens=tokens, total_tokens=tokens)
    )


def _images(model: str, prompt: str, optional_params: Mapping[str, Any]) -> ImageResponse:
    _fail_if_asked(optional_params)
    _require_model(model, IMAGE_MODELS, "image")
    n = optional_params.get("n", 1)
    if not isinstance(n, int) or not 1 <= n <= _MAX_IMAGES:
        raise CustomLLMError(400, f"n must be an int from 1 to {_MAX_IMAGES}, got {n!r}")
    width, height = _size(optional_params.get("size", _DEFAULT_SIZE))
    response_format = optional_params.get("response_format", "b64_json")
    if response_format not in ("b64_json", "url"):
        raise CustomLLMError(
            400, f"response_format must be 'b64_json' or 'url', got {response_format!r}"
        )
    data = []
    for index in range(n):
        image = backend.png(width, height, backend.color_for(prompt, index))
        encoded = base64.b64encode(image).decode("ascii")
        if response_format == "url":  # no server to host it: a data URL says the same
            data.append(ImageObject(url=f"data:image/png;base64,{encoded}", revised_prompt=prompt))
        else:
            data.append(ImageObject(b64_json=encoded, revised_prompt=prompt))
    return ImageResponse(data=data)


def _size(size: Any) -> tuple[int, int]:
    width, _, height = str(size).partition("x")
    if not (width.isdigit() and height.isdigit()) or not (
        1 <= int(width) <= _MAX_SIDE and 1 <= int(height) <= _MAX_SIDE
    ):
        raise CustomLLMError(
            400, f"size must be 'WIDTHxHEIGHT' with sides from 1 to {_MAX_SIDE}, got {size!r}"
        )
    return int(width), int(height)


def _require_model(model: str, models: tuple[str, ...], kind: str) -> None:
    if model not in models:
        served = ", ".join(f"example/{m}" for m in models)
        raise CustomLLMError(404, f"example has no {kind} model {model!r}; it serves {served}")


def _fail_if_asked(optional_params: Mapping[str, Any]) -> None:
    status = optional_params.get(FAIL_PARAM)
    if status is None:
        return
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
        raise CustomLLMError(400, f"{FAIL_PARAM} must be an HTTP error status, got {status!r}")
    raise CustomLLMError(status, f"failed with HTTP {status}, as {FAIL_PARAM}={status} asked")
