"""The request bodies the server accepts, checked once, straight from the JSON bytes.

Each model names OpenAI's parameters whose type llmctl can check and keeps every other key
(a backend's own parameters reach the handler in ``optional_params``). A bad body answers
400 with ``param`` set to the path of the bad value.
"""

from __future__ import annotations

from typing import Any, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from llmctl.exceptions import BadRequestError
from llmctl.request import CALL_ARGUMENTS

__all__ = [
    "ChatRequest",
    "EmbeddingRequest",
    "ImageRequest",
    "TextCompletionRequest",
    "parse_body",
]

#: Call arguments a client may send in a body. The rest (``api_base``, ``api_key``,
#: ``headers``...) are the config's to set: a client choosing where the server's key goes
#: would be a hole.
CLIENT_ARGUMENTS: Final = frozenset({"metadata", "drop_params", "mock_response"})

_REFUSED = CALL_ARGUMENTS - CLIENT_ARGUMENTS


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)

    model: str = Field(min_length=1)

    def params(self) -> dict[str, Any]:
        """Return the keys the client sent, but ``model`` and the payload, as call kwargs."""
        params = {
            key: getattr(self, key) for key in self.model_fields_set if key not in _PAYLOAD_KEYS
        }
        if self.__pydantic_extra__:
            params.update(self.__pydantic_extra__)
        return params


_PAYLOAD_KEYS: Final = frozenset({"model", "messages", "prompt", "input", "stream"})


class _ChatParams(_Body):
    # OpenAI's chat parameters whose types can be checked here; `None` means "not given".
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    stop: str | list[str] | None = None
    seed: int | None = None
    user: str | None = None
    stream: StrictBool = False
    stream_options: dict[str, Any] | None = None
    logit_bias: dict[str, float] | None = None


class ChatRequest(_ChatParams):
    """POST /chat/completions."""

    messages: list[dict[str, Any]] = Field(min_length=1)
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = Field(default=None, ge=0, le=20)
    parallel_tool_calls: bool | None = None


class TextCompletionRequest(_ChatParams):
    """POST /completions (the legacy API), served by the chat handler."""

    prompt: str | list[str] = Field(min_length=1)
    echo: StrictBool = False


class EmbeddingRequest(_Body):
    """POST /embeddings."""

    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(default=None, ge=1)
    user: str | None = None


class ImageRequest(_Body):
    """POST /images/generations."""

    prompt: str = Field(min_length=1)
    n: int | None = Field(default=None, ge=1, le=10)
    size: str | None = None
    quality: str | None = None
    response_format: Literal["url", "b64_json"] | None = None
    style: str | None = None
    user: str | None = None


B = TypeVar("B", bound=_Body)


def parse_body(model: type[B], body: bytes) -> B:
    """Check a JSON request body against ``model``.

    :raises BadRequestError: the body is not JSON, not an object, or a value is of the wrong
        type; the message says what was expected and ``param`` names the value.
    """
    try:
        parsed = model.model_validate_json(body or b"null")
    except ValidationError as exc:
        raise _bad_body(exc, model) from None
    if parsed.__pydantic_extra__:
        refused = next((k for k in parsed.__pydantic_extra__ if k in _REFUSED), None)
        if refused is not None:
            raise BadRequestError(
                f"{refused!r} cannot be set by a client: the server's config.yaml sets it "
                "(litellm_params of the model); remove it from the request",
                param=refused,
            )
        if isinstance(parsed, TextCompletionRequest):
            _refuse_legacy(parsed.__pydantic_extra__)
    if isinstance(parsed, ChatRequest):
        _check_messages(parsed.messages)
    return parsed


def _refuse_legacy(extra: dict[str, Any]) -> None:
    # The legacy parameters a chat handler cannot honour; their "not given" values pass.
    for key, unset in (("suffix", None), ("best_of", 1), ("logprobs", None)):
        if extra.get(key, unset) not in (unset, None):
            raise BadRequestError(
                f"{key!r} is not supported by /completions here (a chat handler serves it); "
                "remove it",
                param=key,
            )
        extra.pop(key, None)


def _check_messages(messages: list[dict[str, Any]]) -> None:
    for i, message in enumerate(messages):
        role = message.get("role")
        if not isinstance(role, str) or not role:
            raise BadRequestError(
                f"messages[{i}] has no 'role'; each message is an object such as "
                '{"role": "user", "content": "Hello"}',
                param=f"messages[{i}].role",
            )


def _bad_body(exc: ValidationError, model: type[_Body]) -> BadRequestError:
    error = exc.errors(include_url=False)[0]
    kind, loc = error["type"], error["loc"]
    if kind == "json_invalid":
        return BadRequestError(
            f"the request body is not valid JSON ({error['ctx'].get('error', 'invalid')}); "
            "send a JSON object with Content-Type: application/json"
        )
    if not loc:  # the body is JSON, but not an object
        return BadRequestError(
            f"the request body must be a JSON object such as {_EXAMPLES[model]}, "
            f"got {_json_type(error.get('input'))}"
        )
    param = _param(loc)
    if kind == "missing":
        return BadRequestError(
            f"{param!r} is required; send, for example, {_EXAMPLES[model]}", param=param
        )
    shown = _json_type(error.get("input"))
    message = error["msg"][0].lower() + error["msg"][1:]
    return BadRequestError(f"invalid {param!r}: {message}, got {shown}", param=param)


def _param(loc: tuple[int | str, ...]) -> str:
    """Write a validation error's location as ``messages[0].role``, without type tags."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in _TYPE_TAGS or "[" in part or part.startswith("function-"):
            continue  # a union reports each member it tried: name the field once
        else:
            out += f".{part}" if out else part
    return out


_TYPE_TAGS: Final = frozenset({"str", "int", "float", "bool", "dict", "list"})


def _json_type(value: object) -> str:
    if isinstance(value, (dict, list)):
        return {dict: "an object", list: "an array"}[type(value)]
    return repr(value)


_EXAMPLES: Final[dict[type[_Body], str]] = {
    ChatRequest: '{"model": "my-model", "messages": [{"role": "user", "content": "Hello"}]}',
    TextCompletionRequest: '{"model": "my-model", "prompt": "Say hello"}',
    EmbeddingRequest: '{"model": "my-model", "input": "some text"}',
    ImageRequest: '{"model": "my-model", "prompt": "A cute baby sea otter"}',
}
