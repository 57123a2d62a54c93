"""A call's arguments: split into llmctl's own and the provider's, then shaped for a handler.

``completion(model=..., messages=..., temperature=0.2, my_param=1, api_key=...)`` becomes a
:class:`CallRequest`. Keywords llmctl itself acts on (:data:`CALL_ARGUMENTS`) stay out of
``optional_params``; every other keyword, OpenAI's or the caller's own, goes to the handler in
``optional_params``, as LiteLLM does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final, Literal

from llmctl.exceptions import BadRequestError
from llmctl.types.responses import EmbeddingResponse, ImageResponse, unbuilt_model_response

__all__ = [
    "CALL_ARGUMENTS",
    "DEFAULT_TIMEOUT",
    "OPENAI_PARAMS",
    "CallLog",
    "CallRequest",
    "check_messages",
    "split_model",
    "wants_usage",
]

#: Seconds a handler is given when the call names no timeout (LiteLLM's default).
DEFAULT_TIMEOUT: Final = 600.0

#: Keywords that configure the call itself and never reach ``optional_params``.
CALL_ARGUMENTS: Final = frozenset(
    {
        "api_base",
        "api_key",
        "api_version",
        "base_url",
        "client",
        "custom_llm_provider",
        "drop_params",
        "extra_headers",
        "headers",
        "litellm_call_id",
        "litellm_params",
        "logger_fn",
        "max_retries",
        "metadata",
        "mock_delay",
        "mock_response",
        "mock_timeout",
        "mock_tool_calls",
        "model_info",
        "num_retries",
        "request_timeout",
        "timeout",
    }
)

Operation = Literal["completion", "image_generation", "embedding"]

#: OpenAI's request parameters per operation: those a provider's
#: ``get_supported_openai_params`` may refuse. ``stream`` and ``stream_options`` are not
#: among them (llmctl serves them for every provider), nor keywords of the caller's own.
OPENAI_PARAMS: Final[dict[str, frozenset[str]]] = {
    "completion": frozenset(
        {
            "audio",
            "frequency_penalty",
            "function_call",
            "functions",
            "logit_bias",
            "logprobs",
            "max_completion_tokens",
            "max_tokens",
            "modalities",
            "n",
            "parallel_tool_calls",
            "prediction",
            "presence_penalty",
            "reasoning_effort",
            "response_format",
            "seed",
            "service_tier",
            "stop",
            "store",
            "temperature",
            "tool_choice",
            "tools",
            "top_logprobs",
            "top_p",
            "user",
            "verbosity",
            "web_search_options",
        }
    ),
    "image_generation": frozenset(
        {
            "background",
            "moderation",
            "n",
            "output_compression",
            "output_format",
            "quality",
            "response_format",
            "size",
            "style",
            "user",
        }
    ),
    "embedding": frozenset({"dimensions", "encoding_format", "user"}),
}

_logger = logging.getLogger("llmctl")


def split_model(model: object, custom_llm_provider: str | None = None) -> tuple[str, str]:
    """Split ``"provider/model"`` into ``(provider, model)``.

    :param custom_llm_provider: names the provider when ``model`` has no prefix, as in LiteLLM.
    :raises BadRequestError: ``model`` is not a non-empty string, or names no provider.
    """
    if not isinstance(model, str) or not model:
        raise BadRequestError(
            f"model must be a non-empty string such as 'my-provider/my-model', got {model!r}",
            param="model",
        )
    if custom_llm_provider:
        prefix = custom_llm_provider + "/"
        return custom_llm_provider, model[len(prefix) :] if model.startswith(prefix) else model
    provider, slash, name = model.partition("/")
    if not slash or not provider or not name:
        raise BadRequestError(
            f"model {model!r} names no provider; write it as '<provider>/<model>' "
            "(for example 'my-custom-llm/my-model'), pass custom_llm_provider=..., "
            "or pass mock_response=... to answer without a provider",
            model=model,
            param="model",
        )
    return provider, name


class CallLog:
    """The ``logging_obj`` a handler receives; LiteLLM handlers call its ``pre_call``/``post_call``.

    Both log at DEBUG level on the ``llmctl`` logger and never raise.
    """

    __slots__ = ("model", "model_call_details", "provider")

    def __init__(self, provider: str, model: str) -> None:
        self.provider = provider
        self.model = model
        self.model_call_details: dict[str, Any] = {}

    def pre_call(self, input: Any = None, api_key: Any = None, **kwargs: Any) -> None:
        """Record the request a handler is about to send to its backend."""
        _logger.debug("%s/%s: request %r", self.provider, self.model, input)

    def post_call(self, input: Any = None, api_key: Any = None, **kwargs: Any) -> None:
        """Record the backend's answer to a handler's request."""
        _logger.debug(
            "%s/%s: response %r", self.provider, self.model, kwargs.get("original_response")
        )


def _print_verbose(*args: Any, **kwargs: Any) -> None:
    _logger.debug(" ".join(str(a) for a in args))


class CallRequest:
    """One call on its way to a provider.

    :param operation: ``completion`` (chat, streamed or not), ``image_generation`` or
        ``embedding``.
    :param model: the model string as the caller wrote it, ``provider/name``.
    :param provider: the provider's name.
    :param provider_model: the model name the handler receives (after ``provider/``).
    :param payload: the messages, the image prompt or the embedding input.
    :param optional_params: every keyword that is not one of :data:`CALL_ARGUMENTS`.
    :param arguments: the :data:`CALL_ARGUMENTS` the caller passed.
    """

    __slots__ = (
        "arguments",
        "is_async",
        "model",
        "operation",
        "optional_params",
        "payload",
        "provider",
        "provider_model",
        "stream",
    )

    def __init__(
        self,
        operation: Operation,
        model: str,
        provider: str,
        provider_model: str,
        payload: Any,
        optional_params: dict[str, Any],
        arguments: dict[str, Any],
        *,
        stream: bool = False,
        is_async: bool = False,
    ) -> None:
        self.operation = operation
        self.model = model
        self.provider = provider
        self.provider_model = provider_model
        self.payload = payload
        self.optional_params = optional_params
        self.arguments = arguments
        self.stream = stream
        self.is_async = is_async

    @classmethod
    def build(
        cls,
        operation: Operation,
        model: str,
        payload: Any,
        kwargs: dict[str, Any],
        *,
        stream: bool = False,
        is_async: bool = False,
    ) -> CallRequest:
        """Split ``kwargs`` and ``model`` into a request.

        :raises BadRequestError: the model names no provider.
        """
        arguments: dict[str, Any] = {}
        optional_params: dict[str, Any] = {}
        for key, value in kwargs.items():
            if key in CALL_ARGUMENTS:
                arguments[key] = value
            elif value is not None:  # None means "not given", as in LiteLLM
                optional_params[key] = value
        if "max_completion_tokens" in optional_params and "max_tokens" not in optional_params:
            # LiteLLM hands custom handlers OpenAI's newer name under the older one.
            optional_params["max_tokens"] = optional_params.pop("max_completion_tokens")
        provider, provider_model = split_model(model, arguments.get("custom_llm_provider"))
        return cls(
            operation,
            model,
            provider,
            provider_model,
            payload,
            optional_params,
            arguments,
            stream=stream,
            is_async=is_async,
        )

    @property
    def api_base(self) -> str | None:
        """The backend address the call names (``api_base`` or ``base_url``)."""
        args = self.arguments
        return args.get("api_base") or args.get("base_url")

    @property
    def headers(self) -> dict[str, str]:
        """``headers`` and ``extra_headers`` of the call, merged."""
        args = self.arguments
        headers = args.get("headers")
        extra = args.get("extra_headers")
        if not extra:
            return dict(headers) if headers else {}
        return {**(headers or {}), **extra}

    @property
    def include_usage(self) -> bool:
        """Whether the caller asked for usage in a chunk of its own (``stream_options``)."""
        return wants_usage(self.optional_params)

    @property
    def timeout(self) -> Any:
        """The call's timeout (``timeout`` or ``request_timeout``), else :data:`DEFAULT_TIMEOUT`."""
        args = self.arguments
        timeout = args.get("timeout", args.get("request_timeout"))
        return DEFAULT_TIMEOUT if timeout is None else timeout

    def litellm_params(self) -> dict[str, Any]:
        """Return the ``litellm_params`` dict a handler receives.

        A ``litellm_params`` argument of the call (the proxy passes a config entry's extra
        keys in it) is merged in below llmctl's own keys.
        """
        args = self.arguments
        return {
            **(args.get("litellm_params") or {}),
            "api_base": self.api_base,
            "api_key": args.get("api_key"),
            "custom_llm_provider": self.provider,
            "metadata": args.get("metadata") or {},
            "model_info": args.get("model_info"),
            "litellm_call_id": args.get("litellm_call_id"),
            "drop_params": args.get("drop_params"),
            "acompletion": self.is_async,
            "stream": self.stream,
        }

    def handler_kwargs(self, method: str) -> dict[str, Any]:
        """Every keyword argument LiteLLM passes a handler for this operation.

        :param method: the handler method about to be called. A stream method finds
            ``"stream": True`` in ``optional_params`` (as in LiteLLM); any other method never
            finds ``stream_options``, even when it serves a stream request (llmctl then
            streams its complete answer), so that it does not ask its backend for a stream.
        """
        args = self.arguments
        if self.operation == "completion":
            optional_params = self.optional_params
            if method in ("streaming", "astreaming"):
                optional_params = {"stream": True, **optional_params}
            elif "stream_options" in optional_params:
                optional_params = {
                    k: v for k, v in optional_params.items() if k != "stream_options"
                }
            return {
                "model": self.provider_model,
                "messages": self.payload,
                "api_base": self.api_base,
                "custom_prompt_dict": {},
                "model_response": unbuilt_model_response(),
                "print_verbose": _print_verbose,
                "encoding": None,
                "api_key": args.get("api_key"),
                "logging_obj": CallLog(self.provider, self.provider_model),
                "optional_params": optional_params,
                "acompletion": self.is_async,
                "litellm_params": self.litellm_params(),
                "logger_fn": args.get("logger_fn"),
                "headers": self.headers,
                "timeout": self.timeout,
                "client": args.get("client"),
            }
        if self.operation == "image_generation":
            return {
                "model": self.provider_model,
                "prompt": self.payload,
                "api_key": args.get("api_key"),
                "api_base": self.api_base,
                "model_response": ImageResponse(),
                "optional_params": self.optional_params,
                "litellm_params": self.litellm_params(),
                "logging_obj": CallLog(self.provider, self.provider_model),
                "timeout": self.timeout,
                "client": args.get("client"),
            }
        return {
            "model": self.provider_model,
            "input": self.payload,
            "model_response": EmbeddingResponse(),
            "print_verbose": _print_verbose,
            "logging_obj": CallLog(self.provider, self.provider_model),
            "optional_params": self.optional_params,
            "litellm_params": self.litellm_params(),
            "api_key": args.get("api_key"),
            "api_base": self.api_base,
            "timeout": self.timeout,
            "client": args.get("client"),
            "headers": self.headers,
        }


def wants_usage(params: Mapping[str, Any]) -> bool:
    """Whether ``params`` hold ``stream_options={"include_usage": True}``."""
    options = params.get("stream_options")
    return isinstance(options, Mapping) and bool(options.get("include_usage"))


def check_messages(messages: object) -> list[Any]:
    """Return ``messages`` as the list a handler receives (``[]`` when omitted).

    :raises BadRequestError: ``messages`` is not a list of messages with a role.
    """
    if messages is None:
        return []
    if not isinstance(messages, list):
        raise BadRequestError(
            "messages must be a list of {'role': ..., 'content': ...} dicts, "
            f"got {type(messages).__name__}: {messages!r:.80}",
            param="messages",
        )
    for i, message in enumerate(messages):
        if not (isinstance(message, Mapping) and "role" in message) and not hasattr(
            message, "role"
        ):
            raise BadRequestError(
                f"messages[{i}] must be a dict with a 'role' key, such as "
                f"{{'role': 'user', 'content': 'Hello'}}, got {message!r:.80}",
                param=f"messages[{i}]",
            )
    return messages
