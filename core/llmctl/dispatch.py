"""``completion``, ``acompletion``, ``image_generation``, ``embedding`` and their async twins.

Each call takes one path: split the model string, run the ``pre_call`` hooks, find the
provider by name, refuse (or drop) the parameters it does not accept, build the handler's
keyword arguments once, call the handler method that serves the operation (bridging sync and
async where the handler lacks one), normalise what it returned, then run the ``post_call``
hooks; a failure runs the ``on_error`` hooks. Calls answered by ``mock_response`` reach no
provider and run no hooks.

The bridge (and with it asyncio, 15 ms of import time) is imported on first use, by the calls
that need it.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any, Literal, NoReturn, TypeVar, overload

from pydantic import BaseModel, ValidationError

from llmctl.chunk_builder import stream_chunk_builder
from llmctl.exceptions import (
    BadRequestError,
    InvalidResponseError,
    LLMCtlError,
)
from llmctl.hooks import aobserve, call_hooks, fail, observe, run_post_call, run_pre_call
from llmctl.mock import mock_response_for, mock_stream_chunks
from llmctl.registry import Provider, registry
from llmctl.request import CallRequest, check_messages, split_model, wants_usage
from llmctl.streaming import (
    CustomStreamWrapper,
    StreamState,
    aiterate,
    classify_stream,
    iterate,
    response_chunks,
)
from llmctl.types.responses import EmbeddingResponse, ImageResponse, ModelResponse

__all__ = [
    "acompletion",
    "aembedding",
    "aimage_generation",
    "completion",
    "embedding",
    "get_llm_provider",
    "image_generation",
]

R = TypeVar("R", bound=BaseModel)

_ASYNC_METHODS = frozenset({"acompletion", "astreaming", "aimage_generation", "aembedding"})
_STREAM_METHODS = frozenset({"streaming", "astreaming"})


# -- chat -------------------------------------------------------------------------------------


@overload
def completion(
    model: str, messages: list[Any] | None = None, *, stream: Literal[False] = False, **kwargs: Any
) -> ModelResponse: ...
@overload
def completion(
    model: str, messages: list[Any] | None = None, *, stream: Literal[True], **kwargs: Any
) -> CustomStreamWrapper: ...
@overload
def completion(
    model: str, messages: list[Any] | None = None, *, stream: bool, **kwargs: Any
) -> ModelResponse | CustomStreamWrapper: ...
def completion(
    model: str, messages: list[Any] | None = None, *, stream: bool = False, **kwargs: Any
) -> ModelResponse | CustomStreamWrapper:
    """Answer a chat completion through the provider that ``model`` names.

    :param model: ``"<provider>/<model>"``; the handler receives the part after the slash.
    :param messages: OpenAI chat messages; may be omitted (the handler receives ``[]``).
    :param stream: return a :class:`CustomStreamWrapper` of chunks instead of a response.
    :param kwargs: OpenAI parameters (``temperature``, ``tools``, ...) and any keyword of your
        own reach the handler in ``optional_params``; ``api_base``, ``api_key``, ``headers``,
        ``timeout``, ``mock_response`` and the rest of :data:`llmctl.request.CALL_ARGUMENTS`
        configure the call.
    :raises LLMCtlError: of the class matching what failed (see :mod:`llmctl.exceptions`).
    """
    if kwargs and _wants_mock(kwargs):
        return _mock(model, stream, kwargs)
    request = CallRequest.build(
        "completion", model, check_messages(messages), kwargs, stream=stream
    )
    hooks = call_hooks.active()
    provider, request = _prepare(request, hooks)
    try:
        if stream:
            return _stream(provider, request, hooks)
        route = provider.route("completion")
        if route in _STREAM_METHODS:
            response = stream_chunk_builder(_stream(provider, request, None, route))
        else:
            result = _invoke(provider, route, request.handler_kwargs(route))
            response = _response(result, route, request, ModelResponse)
        if hooks is not None:
            response = run_post_call(hooks, request, response)
    except Exception as exc:
        fail(exc, request, hooks)
    return response


@overload
async def acompletion(
    model: str, messages: list[Any] | None = None, *, stream: Literal[False] = False, **kwargs: Any
) -> ModelResponse: ...
@overload
async def acompletion(
    model: str, messages: list[Any] | None = None, *, stream: Literal[True], **kwargs: Any
) -> CustomStreamWrapper: ...
@overload
async def acompletion(
    model: str, messages: list[Any] | None = None, *, stream: bool, **kwargs: Any
) -> ModelResponse | CustomStreamWrapper: ...
async def acompletion(
    model: str, messages: list[Any] | None = None, *, stream: bool = False, **kwargs: Any
) -> ModelResponse | CustomStreamWrapper:
    """Answer a chat completion asynchronously; the arguments are those of :func:`completion`.

    With ``stream=True`` it returns a :class:`CustomStreamWrapper` to iterate with
    ``async for``. A handler without async methods runs in a worker thread, never on the
    event loop.
    """
    if kwargs and _wants_mock(kwargs):
        delay = kwargs.pop("mock_delay", None)
        if delay:
            import asyncio

            await asyncio.sleep(delay)
        answer = _mock(model, False, kwargs)
        if not isinstance(answer, ModelResponse) or not stream:
            return answer
        state = _mock_state(answer, kwargs)
        chunks = aiterate(_from_list(mock_stream_chunks(answer)), state)
        return CustomStreamWrapper(chunks, model=model, custom_llm_provider=None)
    request = CallRequest.build(
        "completion", model, check_messages(messages), kwargs, stream=stream, is_async=True
    )
    hooks = call_hooks.active()
    provider, request = _prepare(request, hooks)
    try:
        if stream:
            return await _astream(provider, request, hooks)
        route = provider.route("acompletion")
        if route in _STREAM_METHODS:
            chunks = await _astream(provider, request, None, route)
            response = stream_chunk_builder([chunk async for chunk in chunks])
        else:
            result = await _ainvoke(provider, route, request.handler_kwargs(route))
            response = _response(result, route, request, ModelResponse)
        if hooks is not None:
            response = run_post_call(hooks, request, response)
    except Exception as exc:
        fail(exc, request, hooks)
    return response


def _stream(
    provider: Provider, request: CallRequest, hooks: Any, route: str | None = None
) -> CustomStreamWrapper:
    route = route or provider.route("streaming")
    state = StreamState(
        provider.name, route, request.provider_model, include_usage=request.include_usage
    )
    raw = _invoke(provider, route, request.handler_kwargs(route))
    if route not in _STREAM_METHODS:
        raw = _restream(_response(raw, route, request, ModelResponse), state)
    source = classify_stream(raw, state)
    if isinstance(source, AsyncIterable):
        from llmctl._bridge import iterate_sync

        source = iterate_sync(source)
    chunks = iterate(source, state)
    if hooks is not None:
        chunks = observe(chunks, request, hooks)
    return CustomStreamWrapper(chunks, model=request.model, custom_llm_provider=provider.name)


async def _astream(
    provider: Provider, request: CallRequest, hooks: Any, route: str | None = None
) -> CustomStreamWrapper:
    route = route or provider.route("astreaming")
    state = StreamState(
        provider.name, route, request.provider_model, include_usage=request.include_usage
    )
    raw = await _ainvoke(provider, route, request.handler_kwargs(route))
    if route not in _STREAM_METHODS:
        raw = _restream(_response(raw, route, request, ModelResponse), state)
    source = classify_stream(raw, state)
    if not isinstance(source, AsyncIterable):
        # A list is already complete; only a generator may block between items.
        from llmctl._bridge import iterate_in_thread

        is_complete = isinstance(source, (list, tuple))
        source = _from_list(source) if is_complete else iterate_in_thread(source)
    chunks = aiterate(source, state)
    if hooks is not None:
        chunks = aobserve(chunks, request, hooks)
    return CustomStreamWrapper(chunks, model=request.model, custom_llm_provider=provider.name)


def _restream(response: ModelResponse, state: StreamState) -> list[dict[str, Any]]:
    """Serve a stream from a complete response: its id, created and model on every chunk."""
    state.id, state.created, state.model = response.id, response.created, response.model
    return response_chunks(response)


async def _from_list(items: Iterable[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item


def _wants_mock(kwargs: dict[str, Any]) -> bool:
    # Values, not keys, as in LiteLLM: a gateway forwarding mock_response=None calls for real.
    return (
        kwargs.get("mock_response") is not None
        or bool(kwargs.get("mock_tool_calls"))
        or bool(kwargs.get("mock_timeout"))
    )


def _mock(model: str, stream: bool, kwargs: dict[str, Any]) -> ModelResponse | CustomStreamWrapper:
    if not isinstance(model, str) or not model:
        split_model(model)  # raises the error that says what a model string is
    delay = kwargs.get("mock_delay")
    if delay:
        time.sleep(delay)
    response = mock_response_for(model, kwargs)
    if not stream:
        return response
    chunks = iterate(mock_stream_chunks(response), _mock_state(response, kwargs))
    return CustomStreamWrapper(chunks, model=model, custom_llm_provider=None)


def _mock_state(response: ModelResponse, kwargs: dict[str, Any]) -> StreamState:
    return StreamState(
        "mock", "mock_response", response.model, id=response.id, include_usage=wants_usage(kwargs)
    )


# -- images and embeddings --------------------------------------------------------------------


def image_generation(prompt: str, model: str | None = None, **kwargs: Any) -> ImageResponse:
    """Generate images from ``prompt`` through the provider that ``model`` names.

    :param kwargs: ``n``, ``size``, ``quality``... and any keyword of your own reach the
        handler in ``optional_params``.
    """
    request = _image_request(prompt, model, kwargs, is_async=False)
    return _call(request, "image_generation", ImageResponse)


async def aimage_generation(prompt: str, model: str | None = None, **kwargs: Any) -> ImageResponse:
    """Generate images asynchronously; the arguments are those of :func:`image_generation`."""
    request = _image_request(prompt, model, kwargs, is_async=True)
    return await _acall(request, "aimage_generation", ImageResponse)


def embedding(model: str, input: str | list[Any] | None = None, **kwargs: Any) -> EmbeddingResponse:
    """Embed ``input`` (a string or a list) through the provider that ``model`` names.

    :param kwargs: ``dimensions``, ``encoding_format``... and any keyword of your own reach the
        handler in ``optional_params``.
    """
    request = _embedding_request(model, input, kwargs, is_async=False)
    return _call(request, "embedding", EmbeddingResponse)


async def aembedding(
    model: str, input: str | list[Any] | None = None, **kwargs: Any
) -> EmbeddingResponse:
    """Embed ``input`` asynchronously; the arguments are those of :func:`embedding`."""
    request = _embedding_request(model, input, kwargs, is_async=True)
    return await _acall(request, "aembedding", EmbeddingResponse)


def _image_request(
    prompt: Any, model: Any, kwargs: dict[str, Any], *, is_async: bool
) -> CallRequest:
    if model is None:
        raise BadRequestError("image_generation() needs model='<provider>/<model>'", param="model")
    if not isinstance(prompt, str) or not prompt:
        raise BadRequestError(
            f"prompt must be a non-empty string describing the image, got {prompt!r:.80}",
            model=model,
            param="prompt",
        )
    return CallRequest.build("image_generation", model, prompt, kwargs, is_async=is_async)


def _embedding_request(
    model: Any, input: Any, kwargs: dict[str, Any], *, is_async: bool
) -> CallRequest:
    if not isinstance(input, (str, list)) or not input:
        raise BadRequestError(
            "input must be a non-empty string or list of strings (or token lists) to embed, "
            f"got {input!r:.80}",
            model=model if isinstance(model, str) else None,
            param="input",
        )
    return CallRequest.build("embedding", model, input, kwargs, is_async=is_async)


def _call(request: CallRequest, operation: str, response_type: type[R]) -> R:
    hooks = call_hooks.active()
    provider, request = _prepare(request, hooks)
    try:
        route = provider.route(operation)
        result = _invoke(provider, route, request.handler_kwargs(route))
        response = _response(result, route, request, response_type)
        if hooks is not None:
            response = run_post_call(hooks, request, response)
    except Exception as exc:
        fail(exc, request, hooks)
    return response


async def _acall(request: CallRequest, operation: str, response_type: type[R]) -> R:
    hooks = call_hooks.active()
    provider, request = _prepare(request, hooks)
    try:
        route = provider.route(operation)
        result = await _ainvoke(provider, route, request.handler_kwargs(route))
        response = _response(result, route, request, response_type)
        if hooks is not None:
            response = run_post_call(hooks, request, response)
    except Exception as exc:
        fail(exc, request, hooks)
    return response


# -- the handler call and its result ----------------------------------------------------------


def _prepare(request: CallRequest, hooks: Any) -> tuple[Provider, CallRequest]:
    """Run the ``pre_call`` hooks, then find the provider and check the call's parameters.

    Returns the provider and the request the hooks left. A malformed ``custom_provider_map``
    raises its ``TypeError`` or ``ValueError`` as it is: that is a bug in the caller's code,
    not a failed call.
    """
    if hooks is not None:
        try:
            request = run_pre_call(hooks, request)
        except Exception as exc:
            fail(exc, request, hooks)
    try:
        provider = registry.provider(request.provider, request.model)
    except LLMCtlError as error:
        fail(error, request, hooks)
    try:
        provider.check_params(request)
    except Exception as exc:
        fail(exc, request, hooks)
    return provider, request


def _invoke(provider: Provider, route: str, kwargs: dict[str, Any]) -> Any:
    """Call a handler method from sync code; an async method runs on the bridge loop."""
    result = provider.method(route)(**kwargs)
    if route in _ASYNC_METHODS and inspect.isawaitable(result):
        from llmctl._bridge import run_sync

        return run_sync(result)
    return result


async def _ainvoke(provider: Provider, route: str, kwargs: dict[str, Any]) -> Any:
    """Call a handler method from async code; a sync method runs in a worker thread."""
    if route in _ASYNC_METHODS:
        result = provider.method(route)(**kwargs)
    else:
        from llmctl._bridge import run_in_thread

        result = await run_in_thread(provider.method(route), **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


def _response(result: Any, route: str, request: CallRequest, response_type: type[R]) -> R:
    """Return ``result`` as ``response_type``, as it is or validated from a dict.

    A ``model`` the handler left out is filled with the model the call asked for.
    """
    if isinstance(result, response_type):
        response = result
    elif isinstance(result, Mapping):
        try:
            response = response_type.model_validate(result)
        except ValidationError as exc:
            errors = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            _invalid(
                route,
                request,
                response_type,
                f"a dict that is not a valid {response_type.__name__} ({errors})",
            )
    else:
        _invalid(route, request, response_type, f"{type(result).__name__} {result!r:.60}")
    if getattr(response, "model", "") is None:
        response.model = request.provider_model  # type: ignore[attr-defined]
    return response


def _invalid(route: str, request: CallRequest, response_type: type[Any], problem: str) -> NoReturn:
    raise InvalidResponseError(
        f"{route}() returned {problem}; return a {response_type.__name__} "
        "(or a dict of its fields)",
        llm_provider=request.provider,
        model=request.model,
    )


def get_llm_provider(
    model: str,
    custom_llm_provider: str | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
) -> tuple[str, str, str | None, str | None]:
    """Split ``model`` as a call would: ``(model, provider, dynamic_api_key, api_base)``.

    :raises BadRequestError: ``model`` names no provider.
    :raises ProviderNotFoundError: no provider of that name is registered.
    """
    provider, name = split_model(model, custom_llm_provider)
    registry.provider(provider, model)
    return name, provider, api_key, api_base
