"""The names a template may use, and their values in one call.

Three kinds of placeholder:

- call values: ``{model}``, ``{messages}``, ``{prompt}``, ``{stream}`` for chat;
  ``{model}``, ``{input}``, ``{inputs}`` for embeddings;
- the OpenAI parameters of :data:`CHAT_PARAMS` and :data:`EMBEDDING_PARAMS`, with the call's
  values (``{max_tokens}`` and ``{max_completion_tokens}`` are one value under two names);
- options of the API's own, declared in the description's ``options`` or ``defaults``, with
  the value of the call's keyword (or the config's ``litellm_params`` key) of that name.

A name whose value the call lacks takes its ``defaults`` value, else has none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from llmctl.prompt import TEMPLATE_PARAMS, PromptTemplate

__all__ = [
    "CHAT_PARAMS",
    "CHAT_VALUES",
    "EMBEDDING_PARAMS",
    "EMBEDDING_VALUES",
    "MAX_TOKENS",
    "OTHER_OPENAI_PARAMS",
    "RESERVED",
    "SUPPORTED_PARAMS",
    "call_values",
    "used_params",
]

#: Values of a chat call.
CHAT_VALUES: Final = frozenset({"model", "messages", "prompt", "stream"})
#: Values of an embedding call.
EMBEDDING_VALUES: Final = frozenset({"model", "input", "inputs"})

#: The OpenAI chat parameters a description may send. What the response parser cannot
#: read back (``n``, ``logprobs``, ``audio``, ...) is not among them.
CHAT_PARAMS: Final = frozenset(
    {
        "frequency_penalty",
        "logit_bias",
        "max_completion_tokens",
        "max_tokens",
        "parallel_tool_calls",
        "presence_penalty",
        "reasoning_effort",
        "response_format",
        "seed",
        "stop",
        "temperature",
        "tool_choice",
        "tools",
        "top_p",
        "user",
    }
)
#: The OpenAI embedding parameters a description may send.
EMBEDDING_PARAMS: Final = frozenset({"dimensions", "user"})
#: Every OpenAI parameter a description may send: what ``get_supported_openai_params`` says.
SUPPORTED_PARAMS: Final = CHAT_PARAMS | EMBEDDING_PARAMS
#: OpenAI's other parameters: llmctl refuses them before the call, so no template has them.
OTHER_OPENAI_PARAMS: Final = frozenset(
    {
        "audio",
        "encoding_format",
        "function_call",
        "functions",
        "logprobs",
        "modalities",
        "n",
        "prediction",
        "service_tier",
        "store",
        "stream_options",
        "top_logprobs",
        "verbosity",
        "web_search_options",
    }
)
#: The two names of the answer's token limit (llmctl passes the newer as the older).
MAX_TOKENS: Final = ("max_tokens", "max_completion_tokens")
#: Keys of a call that are not options of the API: the description and the prompt template.
RESERVED: Final = frozenset({"http"}) | TEMPLATE_PARAMS


def used_params(names: Sequence[str] | frozenset[str]) -> frozenset[str]:
    """Return the OpenAI parameters a request sends, given its placeholder names."""
    used = set(SUPPORTED_PARAMS.intersection(names))
    if used.intersection(MAX_TOKENS):
        used.update(MAX_TOKENS)
    return frozenset(used)


def call_values(
    names: frozenset[str],
    optional_params: Mapping[str, Any],
    defaults: Mapping[str, Any],
    fixed: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the value of each placeholder in ``names`` that has one in this call.

    :param names: the placeholders of the request about to be built.
    :param optional_params: the call's OpenAI parameters and keywords of its own.
    :param defaults: the description's ``defaults``.
    :param fixed: the call values (``model``, ``messages``, ``stream``, ``input``, ...);
        ``prompt`` is rendered here, from ``messages``, only when a template uses it.
    """
    values: dict[str, Any] = {}
    for name in names:
        if name in fixed:
            values[name] = fixed[name]
        elif name == "prompt":
            template = PromptTemplate.from_params(optional_params)
            values[name] = template.render(fixed["messages"])
        elif (value := _given(name, optional_params)) is not None:
            values[name] = value
        elif name in defaults:
            values[name] = defaults[name]
    return values


def _given(name: str, params: Mapping[str, Any]) -> Any:
    value = params.get(name)
    if value is None and name in MAX_TOKENS:
        other = MAX_TOKENS[1] if name == MAX_TOKENS[0] else MAX_TOKENS[0]
        return params.get(other)
    return value
