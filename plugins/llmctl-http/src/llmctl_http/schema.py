"""The API description: the ``http`` key of a model's ``litellm_params``, as pydantic models.

:class:`ApiDescription` validates a whole description: the shape of every key (pydantic),
then what depends on several keys (:mod:`llmctl_http.checks`): every placeholder is a name
the call has, every option is used, the stream section fits its framing. Templates and paths
are compiled on the way, so a validated description is ready to build requests and read
answers. docs/providers/http.md documents every key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PlainValidator,
    PrivateAttr,
    model_validator,
)
from pydantic_core import PydanticCustomError

from llmctl_http.checks import problems
from llmctl_http.params import SUPPORTED_PARAMS, used_params
from llmctl_http.paths import JsonPath
from llmctl_http.template import Template, TemplateError, UrlTemplate

__all__ = [
    "FINISH_REASONS",
    "Answer",
    "ApiDescription",
    "Auth",
    "Done",
    "EmbeddingApi",
    "FinishReason",
    "Health",
    "Request",
    "Stream",
    "UsagePaths",
]

#: The finish reasons OpenAI's clients accept.
FINISH_REASONS: Final = ("stop", "length", "tool_calls", "content_filter", "function_call")


# -- field types ------------------------------------------------------------------------------


def _template(value: Any) -> Template:
    try:
        return Template(value)
    except TemplateError as error:
        raise PydanticCustomError(
            "template", "{message}", {"message": error.message, "where": error.where}
        ) from None


def _url(value: Any) -> UrlTemplate:
    if not isinstance(value, str) or not value:
        raise PydanticCustomError(
            "url",
            "must be a URL path such as /v2/generate/{model}, got {got}",
            {"got": repr(value)},
        )
    if "://" in value:
        raise PydanticCustomError(
            "url",
            "{got} is a full URL; write the path only (/v2/generate) and put the server's "
            "address in api_base",
            {"got": repr(value)},
        )
    try:
        return UrlTemplate(value)
    except TemplateError as error:
        raise PydanticCustomError("url", "{message}", {"message": error.message}) from None


def _path(wildcard: bool) -> Any:
    def validate(value: Any) -> JsonPath:
        if not isinstance(value, str):
            raise PydanticCustomError(
                "json_path",
                "must be a dotted path into the answer such as output.text or choices.0.text, "
                "got {got}",
                {"got": repr(value)},
            )
        try:
            return JsonPath(value, wildcard=wildcard)
        except ValueError as error:
            raise PydanticCustomError("json_path", "{message}", {"message": str(error)}) from None

    return validate


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


def _path_only(value: Any) -> Any:
    if isinstance(value, str):
        return {"path": value}
    if not isinstance(value, dict):
        raise PydanticCustomError(
            "finish_reason",
            "must be a dotted path (output.stop_reason) or {path: ..., map: {...}} mapping the "
            "backend's values to stop, length, tool_calls, content_filter or function_call, "
            "got {got}",
            {"got": repr(value)},
        )
    return value


def _data_only(value: Any) -> Any:
    return {"data": value} if isinstance(value, str) else value


_TemplateField = Annotated[Template, PlainValidator(_template)]
_UrlField = Annotated[UrlTemplate, PlainValidator(_url)]
_PathField = Annotated[JsonPath, PlainValidator(_path(wildcard=False))]
_VectorsField = Annotated[JsonPath, PlainValidator(_path(wildcard=True))]
_Method = Annotated[Literal["GET", "POST", "PUT", "PATCH", "DELETE"], BeforeValidator(_upper)]
_Reason = Literal["stop", "length", "tool_calls", "content_filter", "function_call"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- sections ---------------------------------------------------------------------------------


class Auth(_Section):
    """How the call's ``api_key`` is sent: ``<header>: <scheme> <key>``."""

    header: str = Field(default="Authorization", min_length=1)
    #: Written before the key with a space; empty: the key alone.
    scheme: str = "Bearer"

    def headers(self, key: str) -> dict[str, str]:
        """Return the header that carries ``key``."""
        return {self.header: f"{self.scheme} {key}" if self.scheme else key}


class FinishReason(_Section):
    """Where the finish reason is, and how the backend's values map to OpenAI's.

    Written as a path alone (``output.stop_reason``) or as ``{path, map}``.
    """

    path: _PathField
    map: dict[str, _Reason] = Field(default_factory=dict)


_FinishReasonField = Annotated[FinishReason, BeforeValidator(_path_only)]


class UsagePaths(_Section):
    """Where the token counts are; ``total_tokens`` is the sum of the others when left out."""

    prompt_tokens: _PathField | None = None
    completion_tokens: _PathField | None = None
    total_tokens: _PathField | None = None


class Done(_Section):
    """What ends a stream: an SSE event's ``data`` (``"[DONE]"``), or a value at a path."""

    data: str | None = None
    path: _PathField | None = None
    equals: JsonValue = True

    @model_validator(mode="after")
    def _one_way(self) -> Done:
        if (self.data is None) == (self.path is None):
            raise PydanticCustomError(
                "done",
                "give either the SSE data that ends the stream (done: '[DONE]') or a path "
                "and its last value (done: {path: done, equals: true})",
            )
        return self


_DoneField = Annotated[Done, BeforeValidator(_data_only)]


class Answer(_Section):
    """Where the text, finish reason, usage and tool calls are in a complete answer."""

    #: ``json``: the answer is JSON, read with the paths; ``text``: the body is the text.
    format: Literal["json", "text"] = "json"
    text: _PathField | None = None
    finish_reason: _FinishReasonField | None = None
    usage: UsagePaths | None = None
    #: A list of OpenAI-shaped tool calls, or of ``{name, arguments}``.
    tool_calls: _PathField | None = None


class Stream(_Section):
    """How a streamed answer is framed, and where each event's text is."""

    framing: Literal["none", "text", "ndjson", "sse"]
    path: _UrlField | None = None
    method: _Method | None = None
    body: _TemplateField | None = None
    text: _PathField | None = None
    finish_reason: _FinishReasonField | None = None
    usage: UsagePaths | None = None
    tool_calls: _PathField | None = None
    done: _DoneField | None = None


class EmbeddingApi(_Section):
    """The request that embeds ``{input}``, and where the vectors are in its answer."""

    path: _UrlField
    method: _Method = "POST"
    body: _TemplateField | None = None
    vectors: _VectorsField
    usage: UsagePaths | None = None


class Health(_Section):
    """A request that bills nothing and answers 2xx when the backend is up."""

    path: _UrlField
    method: _Method = "GET"


@dataclass(frozen=True)
class Request:
    """One request a call sends: built from the description once, rendered per call.

    :param names: every placeholder of the path and the body.
    :param params: the OpenAI parameters it sends.
    """

    method: str
    path: UrlTemplate
    body: Template | None
    names: frozenset[str]
    params: frozenset[str]

    @classmethod
    def build(cls, method: str, path: UrlTemplate, body: Template | None) -> Request:
        """Collect the placeholders of ``path`` and ``body``."""
        names = frozenset(path.names) | frozenset(body.names if body else ())
        return cls(method, path, body, names, used_params(names))


# -- the description --------------------------------------------------------------------------


class ApiDescription(_Section):
    """A whole API description; see docs/providers/http.md for every key."""

    path: _UrlField
    method: _Method = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    auth: Auth = Field(default_factory=Auth)
    body: _TemplateField | None = None
    defaults: dict[str, JsonValue] = Field(default_factory=dict)
    options: list[str] = Field(default_factory=list)
    response: Answer | None = None
    stream: Stream | None = None
    embedding: EmbeddingApi | None = None
    health: Health | None = None

    _chat: Request = PrivateAttr()
    _streamed: Request = PrivateAttr()
    _embed: Request | None = PrivateAttr(default=None)

    @property
    def chat_request(self) -> Request:
        """The request of a chat call answered at once (and of ``framing: none`` streams)."""
        return self._chat

    @property
    def stream_request(self) -> Request:
        """The request of a streamed chat call (the chat request unless ``stream`` says)."""
        return self._streamed

    @property
    def embedding_request(self) -> Request | None:
        """The request of an embedding call, when the description has one."""
        return self._embed

    @property
    def framing(self) -> str:
        """How streamed answers are framed: ``none`` without a ``stream`` section."""
        return self.stream.framing if self.stream else "none"

    @model_validator(mode="after")
    def _consistent(self) -> ApiDescription:
        found = problems(self)
        if found:
            raise PydanticCustomError("description", "{problems}", {"problems": "\n".join(found)})
        self._chat = Request.build(self.method, self.path, self.body)
        stream = self.stream
        if stream is None or stream.framing == "none":
            self._streamed = self._chat
        else:
            self._streamed = Request.build(
                stream.method or self.method,
                stream.path or self.path,
                stream.body if stream.body is not None else self.body,
            )
        if self.embedding is not None:
            spec = self.embedding
            self._embed = Request.build(spec.method, spec.path, spec.body)
        return self

    def own_options(self) -> frozenset[str]:
        """Return the placeholder names of the API's own: ``options``, non-OpenAI ``defaults``."""
        return frozenset(self.options) | (frozenset(self.defaults) - SUPPORTED_PARAMS)
