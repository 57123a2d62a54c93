"""``CustomLLM``, the base class a provider subclasses, and ``CustomLLMError``.

A handler overrides the operations its backend has; llmctl bridges the rest (a handler with
only ``completion`` still serves ``acompletion`` and ``stream=True``). The methods receive
keyword arguments only, exactly as LiteLLM passes them, and only those their signature accepts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import TYPE_CHECKING, Any, Final, NoReturn

if TYPE_CHECKING:  # the models import pydantic; `llmctl providers list` must not pay for it
    from llmctl.types.chunks import GenericStreamingChunk
    from llmctl.types.responses import EmbeddingResponse, ImageResponse, ModelResponse

__all__ = [
    "OPERATIONS",
    "BaseLLM",
    "CustomLLM",
    "CustomLLMError",
    "implemented_operations",
    "implements",
]

#: Every operation a handler may implement, in the order `llmctl providers list` shows them.
OPERATIONS: Final = (
    "completion",
    "acompletion",
    "streaming",
    "astreaming",
    "image_generation",
    "aimage_generation",
    "embedding",
    "aembedding",
)


class CustomLLMError(Exception):
    """An error a handler raises to answer with an HTTP status.

    llmctl turns it into the error class of ``status_code`` (429 becomes
    :class:`~llmctl.exceptions.RateLimitError`, and so on), keeping the message.
    """

    def __init__(self, status_code: int, message: str) -> None:
        self.status_code = status_code
        self.message = message
        super().__init__(message)


class BaseLLM:
    """The root of provider handlers, kept for LiteLLM's ``litellm.llms.base.BaseLLM`` path."""


class CustomLLM(BaseLLM):
    """Base class of a provider handler; override the operations the backend has.

    Chat methods receive ``model`` (the part after ``provider/``), ``messages``,
    ``optional_params`` (every OpenAI parameter and unknown keyword of the call), ``api_base``,
    ``api_key``, ``headers``, ``timeout``, ``model_response``, ``litellm_params`` and the rest
    of LiteLLM's arguments; image methods ``model``, ``prompt`` and ``optional_params``;
    embedding methods ``model``, ``input`` and ``optional_params``.
    """

    def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        """Answer a chat completion."""
        _not_implemented(self, "completion")

    async def acompletion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        """Answer a chat completion asynchronously."""
        _not_implemented(self, "acompletion")

    def streaming(self, *args: Any, **kwargs: Any) -> Iterator[GenericStreamingChunk]:
        """Stream a chat completion as ``GenericStreamingChunk`` dicts."""
        _not_implemented(self, "streaming")

    def astreaming(
        self, *args: Any, **kwargs: Any
    ) -> AsyncIterator[GenericStreamingChunk] | Awaitable[AsyncIterator[GenericStreamingChunk]]:
        """Stream a chat completion asynchronously: override it with an ``async def`` generator.

        An ``async def`` that returns the stream also fits (it can then fail the call itself,
        before the first chunk). A plain ``def`` here, so that both overrides type-check.
        """
        _not_implemented(self, "astreaming")

    def image_generation(self, *args: Any, **kwargs: Any) -> ImageResponse:
        """Generate images from ``prompt``."""
        _not_implemented(self, "image_generation")

    async def aimage_generation(self, *args: Any, **kwargs: Any) -> ImageResponse:
        """Generate images from ``prompt`` asynchronously."""
        _not_implemented(self, "aimage_generation")

    def embedding(self, *args: Any, **kwargs: Any) -> EmbeddingResponse:
        """Embed ``input``."""
        _not_implemented(self, "embedding")

    async def aembedding(self, *args: Any, **kwargs: Any) -> EmbeddingResponse:
        """Embed ``input`` asynchronously."""
        _not_implemented(self, "aembedding")

    def get_supported_openai_params(self, model: str) -> list[str] | None:
        """Return the OpenAI parameters ``model`` accepts, or None to accept every one.

        A call passing another OpenAI parameter fails with
        :class:`~llmctl.exceptions.UnsupportedParamsError`, or has it dropped when it says
        ``drop_params=True``. Parameters of your own (not OpenAI's) always pass through.
        """
        return None

    def health_check(self, *args: Any, **kwargs: Any) -> object:
        """Ask the backend whether it is up, without billing a completion.

        Override it (sync or async) to list the backend's models or ping it. It may declare
        ``api_base``, ``api_key`` and ``timeout``; it returns what the backend said (a str or
        a dict) and raises when the backend is down. ``llmctl providers check`` runs it.
        """
        _not_implemented(self, "health_check")


def _not_implemented(handler: CustomLLM, operation: str) -> NoReturn:
    raise CustomLLMError(
        status_code=501,
        message=f"{type(handler).__name__} does not implement {operation}; "
        "call it through llmctl, which bridges to the operations it has",
    )


def implemented_operations(handler: object) -> frozenset[str]:
    """Return the operations ``handler`` really implements.

    For a :class:`CustomLLM` subclass, the methods it overrides; for any other object (a
    duck-typed handler), the operation methods it has.
    """
    return frozenset(op for op in OPERATIONS if implements(handler, op))


def implements(handler: object, method: str) -> bool:
    """Whether ``handler`` has ``method`` of its own (not :class:`CustomLLM`'s placeholder)."""
    if isinstance(handler, CustomLLM):
        return getattr(type(handler), method, None) is not getattr(CustomLLM, method)
    return callable(getattr(handler, method, None))
