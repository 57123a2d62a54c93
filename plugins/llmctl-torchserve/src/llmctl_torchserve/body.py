r"""What one call sends: the ``/predictions`` path of its model, and the JSON body.

The body is what the TorchServe handler's ``data[0]["body"]`` receives::

    {"top_k": 40, "max_new_tokens": 64, "temperature": 0.2, "prompt": "user: Hi\nassistant:"}

- every key of ``optional_params`` that is neither an OpenAI parameter nor the plugin's
  (``top_k``, ``repetition_penalty``, ``do_sample`` from config.yaml), as it is: the
  handler's own options;
- the OpenAI parameters under the names of
  :data:`~llmctl_torchserve.options.DEFAULT_PARAM_NAMES`, or those the call's
  :data:`~llmctl_torchserve.options.PARAM_NAMES` gives;
- ``"stream": true`` for a streamed call, for handlers that stream only when asked;
- last, so that nothing overwrites it: the prompt, rendered from the messages with the call's
  prompt template (LiteLLM's ``roles``, ``initial_prompt_value``, ``final_prompt_value``,
  ``bos_token``, ``eos_token``), or the messages themselves
  (:data:`~llmctl_torchserve.options.SEND_MESSAGES`), under the configured key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import quote

from llmctl.exceptions import BadRequestError
from llmctl.prompt import TEMPLATE_PARAMS, PromptTemplate

from llmctl_torchserve.options import OPTION_NAMES, Options

__all__ = ["SUPPORTED_PARAMS", "predictions_path", "request_body"]

#: The OpenAI parameters honoured. ``max_completion_tokens`` is sent under the name of
#: ``max_tokens`` (and wins when a call gives both, as in OpenAI's API).
SUPPORTED_PARAMS: Final = (
    "max_tokens",
    "max_completion_tokens",
    "seed",
    "stop",
    "temperature",
    "top_p",
)
_SENT_AS: Final = {"max_completion_tokens": "max_tokens"}

#: Keys of ``optional_params`` that are not the backend's own: never copied into the body.
_NOT_SENT: Final = frozenset(
    {*SUPPORTED_PARAMS, *OPTION_NAMES, *TEMPLATE_PARAMS, "stream", "stream_options"}
)


def predictions_path(model: str) -> str:
    """Return the path of ``model``: ``my-model`` or ``my-model/2.0`` (a version after a slash).

    :raises BadRequestError: ``model`` is not ``<model_name>`` or ``<model_name>/<version>``.
    """
    parts = model.split("/")
    if not 1 <= len(parts) <= 2 or not all(parts):
        raise BadRequestError(
            f"torchserve model {model!r} is not '<model_name>' or '<model_name>/<version>'; "
            "write the model as 'torchserve/my-model' or 'torchserve/my-model/2.0'",
            llm_provider="torchserve",
            model=model,
            param="model",
        )
    return "/predictions/" + "/".join(quote(part, safe="") for part in parts)


def request_body(
    messages: Sequence[Any], optional_params: Mapping[str, Any], options: Options, *, stream: bool
) -> dict[str, Any]:
    """Return the JSON body of one call (see the module's description).

    :raises BadRequestError: ``stop`` is not a string or a list of strings, or a message is
        not a dict.
    """
    body = {key: value for key, value in optional_params.items() if key not in _NOT_SENT}
    names = options.param_names
    for name in SUPPORTED_PARAMS:
        value = optional_params.get(name)
        key = names[_SENT_AS.get(name, name)]
        if value is not None and key is not None:
            body[key] = _stop_list(value) if name == "stop" else value
    if stream and (key := names["stream"]) is not None:
        body[key] = True
    plain = [_plain(message, n) for n, message in enumerate(messages)]
    if options.send_messages:
        body[options.input_field] = plain
    else:
        body[options.input_field] = PromptTemplate.from_params(optional_params).render(plain)
    return body


def _stop_list(stop: Any) -> list[str]:
    """Return ``stop`` as a list: a handler then reads one shape."""
    if isinstance(stop, str):
        return [stop]
    if isinstance(stop, list) and all(isinstance(s, str) for s in stop):
        return stop
    raise BadRequestError(
        f"stop must be a string or a list of strings, got {stop!r}",
        llm_provider="torchserve",
        param="stop",
    )


def _plain(message: Any, index: int) -> dict[str, Any]:
    """Return a message as a plain dict (a ``Message`` object is dumped), to send as JSON."""
    if isinstance(message, Mapping):
        return dict(message)
    dump = getattr(message, "model_dump", None)
    if callable(dump):
        plain = dump(exclude_none=True)
        if isinstance(plain, dict):
            return plain
    raise BadRequestError(
        f"messages[{index}] must be a dict such as {{'role': 'user', 'content': 'Hi'}}, "
        f"got {message!r:.80}",
        llm_provider="torchserve",
        param=f"messages[{index}]",
    )
