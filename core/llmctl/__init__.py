"""llmctl: one OpenAI-shaped interface in front of any LLM backend.

A handler written for LiteLLM's ``CustomLLM`` runs after replacing ``litellm`` with ``llmctl``
in its imports::

    import llmctl

    llmctl.custom_provider_map = [{"provider": "my-llm", "custom_handler": MyLLM()}]
    resp = llmctl.completion(model="my-llm/my-model", messages=[{"role": "user", "content": "Hi"}])

Importing llmctl imports no plugin and no server stack.
"""

from __future__ import annotations

from typing import Any

from llmctl.chunk_builder import stream_chunk_builder
from llmctl.dispatch import (
    acompletion,
    aembedding,
    aimage_generation,
    completion,
    embedding,
    get_llm_provider,
    image_generation,
)
from llmctl.exceptions import (
    APIConnectionError,
    AuthenticationError,
    BadGatewayError,
    BadRequestError,
    ContentPolicyViolationError,
    ContextWindowExceededError,
    InternalServerError,
    InvalidResponseError,
    LLMCtlError,
    NotFoundError,
    PermissionDeniedError,
    PluginLoadError,
    ProviderNotFoundError,
    RateLimitError,
    ServiceUnavailableError,
    Timeout,
    UnprocessableEntityError,
    UnsupportedOperationError,
)
from llmctl.handler import BaseLLM, CustomLLM, CustomLLMError
from llmctl.streaming import CustomStreamWrapper
from llmctl.types import (
    Choices,
    Delta,
    Embedding,
    EmbeddingResponse,
    GenericStreamingChunk,
    ImageObject,
    ImageResponse,
    Message,
    ModelResponse,
    ModelResponseStream,
    StreamingChoices,
    Usage,
)

__version__ = "0.2.0"

#: Handlers registered in code: ``[{"provider": name, "custom_handler": handler}]``.
#: Read at every call; reassigning or appending takes effect on the next call.
custom_provider_map: list[dict[str, Any]] = []

__all__ = [
    "APIConnectionError",
    "AuthenticationError",
    "BadGatewayError",
    "BadRequestError",
    "BaseLLM",
    "Choices",
    "ContentPolicyViolationError",
    "ContextWindowExceededError",
    "CustomLLM",
    "CustomLLMError",
    "CustomStreamWrapper",
    "Delta",
    "Embedding",
    "EmbeddingResponse",
    "GenericStreamingChunk",
    "ImageObject",
    "ImageResponse",
    "InternalServerError",
    "InvalidResponseError",
    "LLMCtlError",
    "Message",
    "ModelResponse",
    "ModelResponseStream",
    "NotFoundError",
    "PermissionDeniedError",
    "PluginLoadError",
    "ProviderNotFoundError",
    "RateLimitError",
    "ServiceUnavailableError",
    "StreamingChoices",
    "Timeout",
    "UnprocessableEntityError",
    "UnsupportedOperationError",
    "Usage",
    "__version__",
    "acompletion",
    "aembedding",
    "aimage_generation",
    "completion",
    "custom_provider_map",
    "embedding",
    "get_llm_provider",
    "image_generation",
    "stream_chunk_builder",
]
