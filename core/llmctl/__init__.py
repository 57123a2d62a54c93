"""llmctl: one OpenAI-shaped interface in front of any LLM backend.

A handler written for LiteLLM's ``CustomLLM`` runs after replacing ``litellm`` with ``llmctl``
in its imports::

    import llmctl

    llmctl.custom_provider_map = [{"provider": "my-llm", "custom_handler": MyLLM()}]
    resp = llmctl.completion(model="my-llm/my-model", messages=[{"role": "user", "content": "Hi"}])

Importing llmctl is cheap: each name below loads its module on first use, and no plugin or
server stack is imported until a call needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
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
        UnsupportedParamsError,
    )
    from llmctl.handler import (
        BaseLLM,
        CustomLLM,
        CustomLLMError,
    )
    from llmctl.hooks import (
        register_hooks,
        unregister_hooks,
    )
    from llmctl.hookspecs import hookimpl
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

#: Drop the OpenAI parameters a provider declares unsupported instead of failing the call
#: (per call: ``drop_params=True``).
drop_params: bool = False

#: Where each public name lives; imported on first access (PEP 562).
_EXPORTS: Final = {
    "stream_chunk_builder": "llmctl.chunk_builder",
    "acompletion": "llmctl.dispatch",
    "aembedding": "llmctl.dispatch",
    "aimage_generation": "llmctl.dispatch",
    "completion": "llmctl.dispatch",
    "embedding": "llmctl.dispatch",
    "get_llm_provider": "llmctl.dispatch",
    "image_generation": "llmctl.dispatch",
    "APIConnectionError": "llmctl.exceptions",
    "AuthenticationError": "llmctl.exceptions",
    "BadGatewayError": "llmctl.exceptions",
    "BadRequestError": "llmctl.exceptions",
    "ContentPolicyViolationError": "llmctl.exceptions",
    "ContextWindowExceededError": "llmctl.exceptions",
    "InternalServerError": "llmctl.exceptions",
    "InvalidResponseError": "llmctl.exceptions",
    "LLMCtlError": "llmctl.exceptions",
    "NotFoundError": "llmctl.exceptions",
    "PermissionDeniedError": "llmctl.exceptions",
    "PluginLoadError": "llmctl.exceptions",
    "ProviderNotFoundError": "llmctl.exceptions",
    "RateLimitError": "llmctl.exceptions",
    "ServiceUnavailableError": "llmctl.exceptions",
    "Timeout": "llmctl.exceptions",
    "UnprocessableEntityError": "llmctl.exceptions",
    "UnsupportedOperationError": "llmctl.exceptions",
    "UnsupportedParamsError": "llmctl.exceptions",
    "BaseLLM": "llmctl.handler",
    "CustomLLM": "llmctl.handler",
    "CustomLLMError": "llmctl.handler",
    "register_hooks": "llmctl.hooks",
    "unregister_hooks": "llmctl.hooks",
    "hookimpl": "llmctl.hookspecs",
    "CustomStreamWrapper": "llmctl.streaming",
    "Choices": "llmctl.types",
    "Delta": "llmctl.types",
    "Embedding": "llmctl.types",
    "EmbeddingResponse": "llmctl.types",
    "GenericStreamingChunk": "llmctl.types",
    "ImageObject": "llmctl.types",
    "ImageResponse": "llmctl.types",
    "Message": "llmctl.types",
    "ModelResponse": "llmctl.types",
    "ModelResponseStream": "llmctl.types",
    "StreamingChoices": "llmctl.types",
    "Usage": "llmctl.types",
}

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
    "UnsupportedParamsError",
    "Usage",
    "__version__",
    "acompletion",
    "aembedding",
    "aimage_generation",
    "completion",
    "custom_provider_map",
    "drop_params",
    "embedding",
    "get_llm_provider",
    "hookimpl",
    "image_generation",
    "register_hooks",
    "stream_chunk_builder",
    "unregister_hooks",
]

if not TYPE_CHECKING:  # keep mypy checking attribute names

    def __getattr__(name: str) -> Any:
        """Import the module that defines ``name`` and cache the value here."""
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'llmctl' has no attribute {name!r}")
        value = globals()[name] = getattr(importlib.import_module(module), name)
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
