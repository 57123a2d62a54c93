"""A call's parameters as the fields of Ollama's request bodies.

OpenAI's parameters map to Ollama's own names (``docs/providers/ollama.md`` has the table):
sampling settings go in ``options`` (``max_tokens`` as ``options.num_predict``), the rest are
fields of the body (``response_format`` as ``format``, ``reasoning_effort`` as ``think``).

A call's other keywords are Ollama's own, usually from a model's ``litellm_params`` in
config.yaml: the body's fields go at the top (``keep_alive``, ``think``, ``format`` for chat;
``keep_alive``, ``truncate``, ``dimensions`` for embeddings), an ``options`` mapping is merged
into ``options``, and every other keyword is an option (``num_ctx``, ``top_k``,
``repeat_penalty``, ``mirostat``, ...). An OpenAI parameter wins over an Ollama keyword
saying the same thing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Final

from llmctl.exceptions import BadRequestError

__all__ = [
    "CHAT_FIELDS",
    "CHAT_PARAMS",
    "EMBEDDING_FIELDS",
    "EMBEDDING_PARAMS",
    "OPTION_NAMES",
    "REASONING_EFFORTS",
    "chat_fields",
    "embedding_fields",
]

#: The OpenAI chat parameters the provider honours. ``user`` is accepted and not sent (Ollama
#: has no such field); llmctl refuses any other OpenAI parameter (``n``, ``logit_bias``, ...),
#: or drops it when the call says ``drop_params=True``.
CHAT_PARAMS: Final = (
    "frequency_penalty",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "presence_penalty",
    "reasoning_effort",
    "response_format",
    "seed",
    "stop",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
)
#: The OpenAI embedding parameters the provider honours (``encoding_format`` is applied here:
#: Ollama always answers floats).
EMBEDDING_PARAMS: Final = ("dimensions", "encoding_format", "user")

#: OpenAI parameters that are ``options`` entries, and the entry's name. ``max_completion_tokens``
#: comes after ``max_tokens``: OpenAI's newer name wins when a call has both.
OPTION_NAMES: Final = {
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
    "seed": "seed",
    "stop": "stop",
    "temperature": "temperature",
    "top_p": "top_p",
    "max_tokens": "num_predict",
    "max_completion_tokens": "num_predict",
}
#: ``reasoning_effort`` values and the ``think`` each becomes.
REASONING_EFFORTS: Final[Mapping[str, bool | str]] = {
    "none": False,
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
}

#: Ollama's own /api/chat fields a call may set by name (all but model, messages and stream).
CHAT_FIELDS: Final = frozenset({"format", "keep_alive", "think"})
#: Ollama's own /api/embed fields a call may set by name.
EMBEDDING_FIELDS: Final = frozenset({"dimensions", "keep_alive", "truncate"})

#: OpenAI chat parameters that become body fields through a translation of their own.
_TRANSLATED: Final = frozenset(
    {"logprobs", "reasoning_effort", "response_format", "tool_choice", "tools", "top_logprobs"}
)
#: Keywords that never reach Ollama: llmctl's own stream settings, and ``user``.
_NOT_SENT: Final = frozenset({"stream", "stream_options", "user"})
_CHAT_HANDLED: Final = frozenset({*OPTION_NAMES, *_TRANSLATED, *_NOT_SENT})
_EMBEDDING_HANDLED: Final = frozenset({"encoding_format", *_NOT_SENT})


def chat_fields(params: Mapping[str, Any]) -> dict[str, Any]:
    """Return the /api/chat fields set by a call's ``optional_params``.

    Every field but ``model``, ``messages`` and ``stream``, which the handler adds.

    :raises BadRequestError: a parameter has a value Ollama cannot take, naming it and why.
    """
    fields, options = _own_fields(params, CHAT_FIELDS, _CHAT_HANDLED)
    for name, option in OPTION_NAMES.items():
        if name in params:
            value = params[name]
            options[option] = [value] if name == "stop" and isinstance(value, str) else value
    if options:
        fields["options"] = options
    if "response_format" in params:
        format_ = _format(params["response_format"])
        if format_ is not None:
            fields["format"] = format_
    tools = _tools(params.get("tools"), params.get("tool_choice"))
    if tools:
        fields["tools"] = tools
    if "reasoning_effort" in params:
        fields["think"] = _think(params["reasoning_effort"])
    for name in ("logprobs", "top_logprobs"):
        if name in params:
            fields[name] = params[name]
    return fields


def embedding_fields(params: Mapping[str, Any]) -> dict[str, Any]:
    """Return the /api/embed fields set by a call's ``optional_params`` (not model, input).

    :raises BadRequestError: ``options`` is not a mapping.
    """
    fields, options = _own_fields(params, EMBEDDING_FIELDS, _EMBEDDING_HANDLED)
    if options:
        fields["options"] = options
    return fields


def _own_fields(
    params: Mapping[str, Any], top_level: Collection[str], handled: Collection[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split the keywords that are Ollama's own into body fields and ``options``."""
    fields: dict[str, Any] = {}
    loose: dict[str, Any] = {}
    options: Mapping[str, Any] = {}
    for key, value in params.items():
        if key in handled:
            continue
        if key == "options":
            if not isinstance(value, Mapping):
                raise BadRequestError(
                    f"options must be a mapping of Ollama options such as {{'num_ctx': 8192}}, "
                    f"got {type(value).__name__}: {value!r:.80}",
                    param="options",
                )
            options = value
        elif key in top_level:
            fields[key] = value
        else:
            loose[key] = value
    return fields, {**loose, **options}


def _format(value: Any) -> Any:
    """Return Ollama's ``format`` for an OpenAI ``response_format`` (None: free text)."""
    if isinstance(value, type) and hasattr(value, "model_json_schema"):
        return value.model_json_schema()  # a pydantic model class, as LiteLLM accepts
    kind = value.get("type") if isinstance(value, Mapping) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return "json"
    if kind == "json_schema":
        spec = value.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, Mapping) else None
        if not isinstance(schema, Mapping):
            raise BadRequestError(
                "response_format of type 'json_schema' needs the schema in "
                "json_schema.schema, as in {'type': 'json_schema', 'json_schema': {'name': "
                f"'answer', 'schema': {{'type': 'object', ...}}}}; got {value!r:.200}",
                param="response_format",
            )
        return dict(schema)
    raise BadRequestError(
        "response_format must be {'type': 'text'}, {'type': 'json_object'} or "
        f"{{'type': 'json_schema', 'json_schema': {{...}}}}; got {value!r:.200}",
        param="response_format",
    )


def _tools(tools: Any, choice: Any) -> list[Any] | None:
    """Return the tools to send: all of them, none (``tool_choice="none"``) or the one named."""
    if tools is None:
        return None
    if not isinstance(tools, list):
        raise BadRequestError(
            f"tools must be a list of {{'type': 'function', 'function': {{...}}}} tools, "
            f"got {type(tools).__name__}",
            param="tools",
        )
    if choice is None or choice == "auto":
        return tools
    if choice == "none":
        return None
    if isinstance(choice, Mapping) and choice.get("type") == "function":
        name = (choice.get("function") or {}).get("name")
        chosen = [tool for tool in tools if _tool_name(tool) == name]
        if not chosen:
            names = ", ".join(repr(_tool_name(tool)) for tool in tools) or "none"
            raise BadRequestError(
                f"tool_choice names the function {name!r}, which is not among the tools "
                f"(functions: {names}); name one of them, or use 'auto'",
                param="tool_choice",
            )
        return chosen
    raise BadRequestError(
        f"ollama cannot force a tool call, so tool_choice={choice!r} cannot be honoured; use "
        "'auto', 'none', or {'type': 'function', 'function': {'name': ...}} to offer the "
        "model that one tool",
        param="tool_choice",
    )


def _tool_name(tool: Any) -> Any:
    function = tool.get("function") if isinstance(tool, Mapping) else None
    return function.get("name") if isinstance(function, Mapping) else None


def _think(effort: Any) -> bool | str:
    """Return Ollama's ``think`` for an OpenAI ``reasoning_effort``."""
    try:
        return REASONING_EFFORTS[effort]
    except (KeyError, TypeError):
        allowed = ", ".join(repr(e) for e in REASONING_EFFORTS)
        raise BadRequestError(
            f"reasoning_effort must be one of {allowed} for ollama, got {effort!r}",
            param="reasoning_effort",
        ) from None
