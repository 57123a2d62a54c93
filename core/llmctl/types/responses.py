"""Response models that serialise to exactly OpenAI's JSON.

Every ``model_dump()`` validates against the official ``openai`` package's ``ChatCompletion``,
``ChatCompletionChunk``, ``ImagesResponse`` and ``CreateEmbeddingResponse``. As in LiteLLM the
models are built from plain dicts (``ModelResponse(choices=[{...}], usage={...})``), allow
item access (``resp["choices"][0]["message"]["content"]``) and keep unknown keys
(``reasoning_content``, ``provider_specific_fields``), which appear in the dump only when set.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

__all__ = [
    "ChatCompletionDeltaToolCall",
    "ChatCompletionMessageToolCall",
    "Choices",
    "Delta",
    "Embedding",
    "EmbeddingResponse",
    "Function",
    "FunctionCall",
    "ImageObject",
    "ImageResponse",
    "Message",
    "ModelResponse",
    "ModelResponseStream",
    "StreamingChoices",
    "Usage",
]

# What backends say, mapped to the five finish reasons OpenAI's clients accept.
_FINISH_REASONS = {
    "eos": "stop",
    "eos_token": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "complete": "stop",
    "STOP": "stop",
    "max_tokens": "length",
    "MAX_TOKENS": "length",
    "tool_use": "tool_calls",
    "function_calls": "tool_calls",
    "content_filtered": "content_filter",
    "SAFETY": "content_filter",
}


def _chat_id() -> str:
    # uuid4's text form without building a UUID object: this runs once per call.
    h = os.urandom(16).hex()
    variant = "89ab"[int(h[16], 16) & 3]
    return f"chatcmpl-{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


def _now() -> int:
    return int(time.time())


def _finish_reason(value: Any) -> Any:
    return _FINISH_REASONS.get(value, value) if isinstance(value, str) else value


def _stop_if_none(value: Any) -> Any:
    # LiteLLM reads a complete choice's missing finish reason as "stop".
    return "stop" if value is None else _finish_reason(value)


def _zero_if_none(value: Any) -> Any:
    return 0 if value is None else value


def _call_id() -> str:
    return f"call_{os.urandom(12).hex()}"


class _ResponseModel(BaseModel):
    """Base of the response models: extra keys kept, dict-style access as in LiteLLM."""

    # defer_build: a model builds its validator when first used, not at import.
    model_config = ConfigDict(extra="allow", defer_build=True)

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, key, value)

    def __contains__(self, key: object) -> bool:
        return key in type(self).model_fields or key in (self.__pydantic_extra__ or {})

    def get(self, key: str, default: Any = None) -> Any:
        """Return the field or extra key ``key``, or ``default`` when there is none."""
        return getattr(self, key, default)


class Function(_ResponseModel):
    """The function a tool call invokes; ``arguments`` is a JSON string, as in OpenAI."""

    name: str | None = None
    arguments: str = ""

    @field_validator("arguments", mode="before")
    @classmethod
    def _arguments_as_json(cls, value: Any) -> Any:
        # Backends such as Ollama send arguments as an object; OpenAI's clients expect text.
        if value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value)


class FunctionCall(Function):
    """The legacy ``function_call`` of a message."""


class ChatCompletionMessageToolCall(_ResponseModel):
    """One tool call in a complete message; one without an id gets a fresh ``call_...`` id."""

    id: str = Field(default_factory=_call_id)
    type: str = "function"
    function: Function

    @field_validator("id", mode="before")
    @classmethod
    def _fresh_id(cls, value: Any) -> Any:
        return _call_id() if value is None else value


class ChatCompletionDeltaToolCall(_ResponseModel):
    """One tool call fragment in a stream delta; fragments with one ``index`` concatenate."""

    index: int = 0
    id: str | None = None
    type: str | None = None
    function: Function | None = None


class Message(_ResponseModel):
    """The assistant's message in a complete response."""

    content: str | None = None
    role: str = "assistant"
    tool_calls: list[ChatCompletionMessageToolCall] | None = None
    function_call: FunctionCall | None = None


class Choices(_ResponseModel):
    """One choice of a complete response."""

    finish_reason: str = "stop"
    index: int = 0
    message: Message = Field(default_factory=Message)

    _finish = field_validator("finish_reason", mode="before")(_stop_if_none)


class Usage(_ResponseModel):
    """Token counts; ``total_tokens`` is filled from the other two when not given."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Validated when omitted too, so that it is filled from the other two.
    total_tokens: int = Field(default=0, validate_default=True)

    _zero = field_validator("prompt_tokens", "completion_tokens", "total_tokens", mode="before")(
        _zero_if_none
    )

    @field_validator("total_tokens")
    @classmethod
    def _sum_if_zero(cls, value: int, info: ValidationInfo) -> int:
        # A field validator, not model_post_init: that costs every Usage() twice as much.
        if value:
            return value
        return int(info.data.get("prompt_tokens", 0) + info.data.get("completion_tokens", 0))


class ModelResponse(_ResponseModel):
    """A complete chat completion (``object: "chat.completion"``)."""

    id: str = Field(default_factory=_chat_id)
    choices: list[Choices] = Field(default_factory=lambda: [Choices()])
    created: int = Field(default_factory=_now)
    model: str | None = None
    object: str = "chat.completion"
    system_fingerprint: str | None = None
    usage: Usage = Field(default_factory=Usage)

    @field_validator("id", "created", mode="before")
    @classmethod
    def _fill_if_none(cls, value: Any, info: ValidationInfo) -> Any:
        if value is not None:
            return value
        return _chat_id() if info.field_name == "id" else _now()


class _UnbuiltModelResponse(ModelResponse):
    """A ``ModelResponse()`` that builds itself when first used, for a handler's ``model_response``.

    LiteLLM hands every handler call a fresh ``model_response``. Most handlers never touch
    it, and building one costs a proxied request about 6 us, a fifth of llmctl's own time
    (#5). This stand-in is an empty ``ModelResponse`` instance (``isinstance`` holds): the
    first time anything of it is read or written, including by pydantic, it becomes a plain
    ``ModelResponse`` with the defaults ``ModelResponse()`` has. Each one is new, never
    shared or reused.
    """

    def __getattribute__(self, name: str) -> Any:
        _set(self, "__class__", ModelResponse)
        if not _get(self, "__dict__"):  # not built yet (a copy of a built one is)
            ModelResponse.__init__(self)
        return _get(self, name)


def unbuilt_model_response() -> ModelResponse:
    """Return a new :class:`ModelResponse` that builds itself on first use."""
    return object.__new__(_UnbuiltModelResponse)


_get = object.__getattribute__
_set = object.__setattr__


class Delta(_ResponseModel):
    """What one stream chunk adds to a choice's message."""

    content: str | None = None
    role: str | None = None
    tool_calls: list[ChatCompletionDeltaToolCall] | None = None
    function_call: FunctionCall | None = None


class StreamingChoices(_ResponseModel):
    """One choice of a stream chunk."""

    index: int = 0
    delta: Delta = Field(default_factory=Delta)
    finish_reason: str | None = None

    _finish = field_validator("finish_reason", mode="before")(_finish_reason)


class ModelResponseStream(_ResponseModel):
    """One chunk of a streamed chat completion (``object: "chat.completion.chunk"``)."""

    id: str = Field(default_factory=_chat_id)
    created: int = Field(default_factory=_now)
    model: str | None = None
    object: str = "chat.completion.chunk"
    system_fingerprint: str | None = None
    choices: list[StreamingChoices] = Field(default_factory=lambda: [StreamingChoices()])
    usage: Usage | None = None


class ImageObject(_ResponseModel):
    """One generated image: a ``url`` or base64 data in ``b64_json``."""

    b64_json: str | None = None
    revised_prompt: str | None = None
    url: str | None = None


class ImageResponse(_ResponseModel):
    """The answer to an image generation request."""

    created: int = Field(default_factory=_now)
    data: list[ImageObject] = Field(default_factory=list)


class Embedding(_ResponseModel):
    """One embedding vector (a list of floats, or base64 text when asked for)."""

    embedding: list[float] | str
    index: int = 0
    object: str = "embedding"


class EmbeddingResponse(_ResponseModel):
    """The answer to an embedding request (``object: "list"``)."""

    data: list[Embedding] = Field(default_factory=list)
    model: str | None = None
    object: str = "list"
    usage: Usage = Field(default_factory=Usage)
