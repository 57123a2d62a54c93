"""The plugin's own options: how the request and the answer of *your* handler look.

A TorchServe handler is user code, so the plugin does not assume one shape. Five keys, given
in a model's ``litellm_params`` in config.yaml (or as keywords of a call), say which::

    litellm_params:
      model: torchserve/llama/2.0
      torchserve_send_messages: true            # send the chat messages, not a prompt
      torchserve_input_field: conversation      # under this key of the JSON body
      torchserve_output_field: outputs.0.text   # read the answer's text from here
      torchserve_stream_format: json            # each streamed piece is a JSON object
      torchserve_param_names: {max_tokens: max_tokens, stream: streaming}

They never reach the backend; every other key that is not an OpenAI parameter does (see
:mod:`llmctl_torchserve.body`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final, Literal

from llmctl.exceptions import BadRequestError

__all__ = [
    "DEFAULT_PARAM_NAMES",
    "INPUT_FIELD",
    "OPTION_NAMES",
    "OUTPUT_FIELD",
    "PARAM_NAMES",
    "SEND_MESSAGES",
    "STREAM_FORMAT",
    "Options",
]

#: The body key the prompt (or the messages) goes under.
INPUT_FIELD: Final = "torchserve_input_field"
#: True: send OpenAI's ``messages`` list instead of a prompt rendered from it.
SEND_MESSAGES: Final = "torchserve_send_messages"
#: A dotted path (``outputs.0.text``) to the answer's text in a JSON answer.
OUTPUT_FIELD: Final = "torchserve_output_field"
#: ``text``: streamed pieces are text; ``json``: each is a JSON value holding the text.
STREAM_FORMAT: Final = "torchserve_stream_format"
#: Body keys replacing those of :data:`DEFAULT_PARAM_NAMES` (null: not sent).
PARAM_NAMES: Final = "torchserve_param_names"
#: Every option of the plugin's own; none is sent to the backend.
OPTION_NAMES: Final = frozenset(
    {INPUT_FIELD, SEND_MESSAGES, OUTPUT_FIELD, STREAM_FORMAT, PARAM_NAMES}
)

#: The body key of each OpenAI parameter honoured, and of the stream flag.
#: (``max_completion_tokens`` is sent under the name of ``max_tokens``.)
DEFAULT_PARAM_NAMES: Final[Mapping[str, str | None]] = MappingProxyType(
    {
        "max_tokens": "max_new_tokens",
        "seed": "seed",
        "stop": "stop",
        "stream": "stream",
        "temperature": "temperature",
        "top_p": "top_p",
    }
)

#: How the pieces of a streamed body are read (the values of :data:`STREAM_FORMAT`).
StreamFormat = Literal["text", "json"]


@dataclass(frozen=True, slots=True)
class Options:
    """The shape of one call's request and answer.

    :param send_messages: send the chat messages as they are, instead of a prompt.
    :param input_field: the body key of the prompt or the messages.
    :param output_field: where the text is in a JSON answer, as a path of keys and list
        indexes; None reads the first of the usual places
        (:data:`llmctl_torchserve.answer.TEXT_FIELDS`).
    :param stream_format: how the pieces of a streamed body are read.
    :param param_names: the body key of each OpenAI parameter and of the stream flag; None
        leaves it out of the body.
    """

    send_messages: bool = False
    input_field: str = "prompt"
    output_field: tuple[str, ...] | None = None
    stream_format: StreamFormat = "text"
    param_names: Mapping[str, str | None] = field(default_factory=lambda: DEFAULT_PARAM_NAMES)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Options:
        """Read the options from a call's ``optional_params``; absent keys keep the defaults.

        :raises BadRequestError: an option has a value of the wrong kind.
        """
        if not OPTION_NAMES.intersection(params):
            return _DEFAULT
        send_messages = params.get(SEND_MESSAGES, False)
        if not isinstance(send_messages, bool):
            raise _bad(SEND_MESSAGES, send_messages, "true or false")
        input_field = params.get(INPUT_FIELD, "messages" if send_messages else "prompt")
        if not isinstance(input_field, str) or not input_field:
            raise _bad(INPUT_FIELD, input_field, "a non-empty string, the body key of the input")
        stream_format = params.get(STREAM_FORMAT, "text")
        if stream_format not in ("text", "json"):
            raise _bad(STREAM_FORMAT, stream_format, "'text' or 'json'")
        return cls(
            send_messages=send_messages,
            input_field=input_field,
            output_field=_path(params.get(OUTPUT_FIELD)),
            stream_format=stream_format,
            param_names=_param_names(params.get(PARAM_NAMES)),
        )


_DEFAULT: Final = Options()


def _path(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    path = tuple(value.split(".")) if isinstance(value, str) else ()
    if not all(path):
        raise _bad(
            OUTPUT_FIELD,
            value,
            "a path of keys and list indexes joined by dots, such as 'outputs.0.text'",
        )
    return path


def _param_names(value: Any) -> Mapping[str, str | None]:
    if value is None:
        return DEFAULT_PARAM_NAMES
    expected = (
        f"a mapping of {', '.join(DEFAULT_PARAM_NAMES)} to the body keys your handler reads "
        "(or null to leave one out), such as {max_tokens: max_tokens}"
    )
    if not isinstance(value, Mapping):
        raise _bad(PARAM_NAMES, value, expected)
    for name, key in value.items():
        if name not in DEFAULT_PARAM_NAMES or not (key is None or (isinstance(key, str) and key)):
            raise _bad(PARAM_NAMES, dict(value), expected)
    return {**DEFAULT_PARAM_NAMES, **value}


def _bad(name: str, value: Any, expected: str) -> BadRequestError:
    return BadRequestError(
        f"{name} must be {expected}, got {value!r}; set it in the model's litellm_params "
        "in config.yaml or pass it to the call",
        llm_provider="torchserve",
        param=name,
    )
