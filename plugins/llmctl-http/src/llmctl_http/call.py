"""One call's request, built from its API description: where it goes, what it sends.

Sync and async calls build it the same way here; only the send differs (in the handler).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import llmctl
from llmctl.exceptions import BadRequestError, UnsupportedOperationError, UnsupportedParamsError
from llmctl.http import Endpoint

from llmctl_http.answers import Reader
from llmctl_http.description import KEY, description_of
from llmctl_http.params import CHAT_PARAMS, EMBEDDING_PARAMS, call_values
from llmctl_http.paths import MISSING
from llmctl_http.schema import ApiDescription, Request
from llmctl_http.template import MissingValueError

__all__ = ["API_BASE_ENV", "API_KEY_ENV", "Call", "chat_call", "embedding_call", "endpoint"]

#: The backend's address when neither the call nor the config gives one.
API_BASE_ENV: Final = "LLMCTL_HTTP_API_BASE"
#: The key sent when neither the call nor the config gives one.
API_KEY_ENV: Final = "LLMCTL_HTTP_API_KEY"


@dataclass(frozen=True, slots=True)
class Call:
    """A request ready to send: the endpoint, method, path and JSON body (None: no body)."""

    api: ApiDescription
    endpoint: Endpoint
    method: str
    path: str
    body: Any
    reader: Reader

    def send(self) -> Any:
        """Send the request; return its decoded JSON answer."""
        return self.endpoint.send(self.method, self.path, json=self.body)

    async def asend(self) -> Any:
        """Send the request without blocking; return its decoded JSON answer."""
        return await self.endpoint.asend(self.method, self.path, json=self.body)

    def text(self) -> str:
        """Send the request; return its answer's body as text."""
        return "".join(self.endpoint.stream_text(self.method, self.path, json=self.body))

    async def atext(self) -> str:
        """Send the request without blocking; return its answer's body as text."""
        pieces = self.endpoint.astream_text(self.method, self.path, json=self.body)
        return "".join([piece async for piece in pieces])


def endpoint(
    api: ApiDescription | None,
    *,
    model: str | None,
    api_base: str | None,
    api_key: str | None,
    headers: Mapping[str, str] | None,
    timeout: Any,
    client: Any = None,
) -> Endpoint:
    """Return the call's endpoint: the description's headers and auth, the call's own over them."""
    sent = {**(api.headers if api else {}), **(headers or {})}
    return Endpoint.from_call(
        KEY,
        model=model,
        api_base=api_base,
        api_key=api_key,
        headers=sent,
        timeout=timeout,
        client=client,
        base_env=API_BASE_ENV,
        key_env=API_KEY_ENV,
        auth=api.auth.headers if api else None,
    )


def chat_call(
    *,
    model: str,
    messages: Sequence[Any],
    optional_params: Mapping[str, Any],
    litellm_params: Mapping[str, Any] | None,
    streaming: bool,
    **connection: Any,
) -> Call:
    """Build the request of a chat call.

    :param streaming: the call streams; it then sends the ``stream`` section's request, with
        ``{stream}`` true, unless the framing is ``none``. So does a call answered at once
        when the description has no ``response`` (an API that only streams).
    :param connection: ``api_base``, ``api_key``, ``headers``, ``timeout``, ``client``.
    :raises BadRequestError: no or an invalid description, or a path value missing.
    :raises UnsupportedParamsError: an OpenAI parameter the description does not send.
    """
    api = description_of(
        model=model, optional_params=optional_params, litellm_params=litellm_params
    )
    streamed = (streaming or api.response is None) and api.framing != "none"
    request = api.stream_request if streamed else api.chat_request
    _refuse_unsent(request, CHAT_PARAMS, optional_params, litellm_params, model)
    fixed = {"model": model, "messages": _plain(messages), "stream": streamed}
    section = "stream" if streamed else "response"
    return _build(api, request, fixed, optional_params, model, section, connection)


def embedding_call(
    *,
    model: str,
    input: str | list[Any],
    optional_params: Mapping[str, Any],
    litellm_params: Mapping[str, Any] | None,
    **connection: Any,
) -> tuple[Call, int]:
    """Build the request of an embedding call; return it and the number of inputs.

    :raises UnsupportedOperationError: the description has no ``embedding`` section.
    """
    api = description_of(
        model=model, optional_params=optional_params, litellm_params=litellm_params
    )
    request = api.embedding_request
    if request is None:
        raise UnsupportedOperationError(
            f"model {model!r} has no embedding request in its API description: add "
            "http.embedding: {path: ..., body: {texts: '{inputs}'}, vectors: ...}",
            llm_provider=KEY,
            model=model,
        )
    _refuse_unsent(request, EMBEDDING_PARAMS, optional_params, litellm_params, model)
    inputs = [input] if isinstance(input, str) else list(input)
    fixed = {"model": model, "input": input, "inputs": inputs}
    call = _build(api, request, fixed, optional_params, model, "embedding", connection)
    return call, len(inputs)


def _build(
    api: ApiDescription,
    request: Request,
    fixed: Mapping[str, Any],
    optional_params: Mapping[str, Any],
    model: str,
    section: str,
    connection: Mapping[str, Any],
) -> Call:
    values = call_values(request.names, optional_params, api.defaults, fixed)
    try:
        path = request.path.render(values)
    except MissingValueError as missing:
        raise BadRequestError(
            f"the path {request.path.source!r} of model {model!r} needs {{{missing.name}}}: "
            f"pass {missing.name}=... to the call, or give it a value in http.defaults",
            llm_provider=KEY,
            model=model,
            param=missing.name,
        ) from None
    except ValueError as error:
        raise BadRequestError(
            f"the path {request.path.source!r} of model {model!r}: {error}",
            llm_provider=KEY,
            model=model,
        ) from None
    body = request.body.render(values) if request.body is not None else None
    server = endpoint(api, model=model, **connection)
    reader = Reader(f"{request.method} {server.url(path)}", section, model)
    return Call(api, server, request.method, path, None if body is MISSING else body, reader)


def _refuse_unsent(
    request: Request,
    params: frozenset[str],
    optional_params: Mapping[str, Any],
    litellm_params: Mapping[str, Any] | None,
    model: str,
) -> None:
    """Refuse an OpenAI parameter the request does not send, unless params are dropped.

    ``get_supported_openai_params`` cannot see the description (it gets the model name
    only), so it declares every parameter a description may send, and this refuses the
    ones this description does not.
    """
    unsent = next((p for p in optional_params if p in params and p not in request.params), None)
    if unsent is None:
        return
    drop = (litellm_params or {}).get("drop_params")
    if drop if drop is not None else llmctl.drop_params:
        return
    raise UnsupportedParamsError(
        f"model {model!r} does not send {unsent!r}: no template of its API description has "
        f"{{{unsent}}}; add it to a template in http, leave it out of the call, or set "
        "llmctl.drop_params = True (litellm_settings: {drop_params: true} in config.yaml) "
        "to drop what a provider does not send",
        llm_provider=KEY,
        model=model,
        param=unsent,
    )


def _plain(messages: Sequence[Any]) -> list[Any]:
    """Return the messages as JSON-ready dicts (a pydantic message is dumped)."""
    if all(isinstance(message, Mapping) for message in messages):
        return list(messages)
    return [
        message
        if isinstance(message, Mapping)
        else message.model_dump(exclude_none=True)
        if hasattr(message, "model_dump")
        else dict(vars(message))
        for message in messages
    ]
