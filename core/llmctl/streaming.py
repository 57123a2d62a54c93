"""Handler streams turned into OpenAI ``chat.completion.chunk`` objects.

A handler's ``streaming``/``astreaming`` may return one chunk, a list, a generator, an async
generator, or a coroutine giving any of these; the chunks may be ``GenericStreamingChunk``
dicts or ``ModelResponseStream`` objects. The caller always receives ``ModelResponseStream``
chunks shaped as OpenAI sends them: one id, created and model on every chunk, the role in the
first delta of each choice, content chunks without ``finish_reason``, then one empty-delta
chunk per choice carrying it (with ``usage`` when the handler reported one). A handler's
``ModelResponseStream`` that only adds text to one choice, most of a stream, is made the
caller's chunk in place rather than rebuilt: its id, created, model and role are set on it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, Final

from llmctl.exceptions import InvalidResponseError, LLMCtlError, from_handler_exception
from llmctl.types.responses import (
    Delta,
    ModelResponse,
    ModelResponseStream,
    StreamingChoices,
    _chat_id,
)

__all__ = [
    "CustomStreamWrapper",
    "StreamState",
    "aiterate",
    "classify_stream",
    "iterate",
    "response_chunks",
]

#: The usage of a stream whose handler reported none.
_NO_USAGE: Final = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}


class StreamState:
    """What one stream has sent so far; turns each handler chunk into caller chunks.

    :param provider: the provider's name, for error messages.
    :param method: the handler method the chunks come from, for error messages.
    :param model: the ``model`` every chunk carries.
    :param id: the response id; by default the first chunk's ``id``, else a new one.
    :param created: the ``created`` time every chunk carries; by default now.
    :param include_usage: send usage in a last chunk of its own with no choices, as OpenAI
        does for ``stream_options={"include_usage": True}``; otherwise usage rides on the
        finish chunk.
    """

    __slots__ = (
        "_finish_reasons",
        "_started",
        "_typed",
        "_usage",
        "created",
        "id",
        "include_usage",
        "method",
        "model",
        "provider",
    )

    def __init__(
        self,
        provider: str,
        method: str,
        model: str | None,
        *,
        id: str | None = None,
        created: int | None = None,
        include_usage: bool = False,
    ) -> None:
        self.provider = provider
        self.method = method
        self.model = model
        self.id = id
        self.created = created if created is not None else int(time.time())
        self._started: set[int] = set()
        self._finish_reasons: dict[int, str] = {}
        self._usage: Any = None
        # Whether id, created and model need no validation; known once _from_chunk has the id.
        self._typed: bool | None = None
        self.include_usage = include_usage

    def convert(self, raw: Any) -> list[ModelResponseStream]:
        """Return the caller chunks for one handler chunk (often one, sometimes none)."""
        # Exact types first: the Mapping check walks the ABC registry (#5, #6).
        if type(raw) is dict:
            return self._from_generic(raw)
        if type(raw) is ModelResponseStream:
            return self._from_chunk(raw)
        if isinstance(raw, Mapping):
            return self._from_generic(raw)
        if isinstance(raw, ModelResponseStream):
            return self._from_chunk(raw)
        raise InvalidResponseError(
            f"{self.method}() yielded {type(raw).__name__} {raw!r:.60}; yield "
            "GenericStreamingChunk dicts or ModelResponseStream objects",
            llm_provider=self.provider,
            model=self.model,
        )

    def close(self) -> list[ModelResponseStream]:
        """Return the chunks that end the stream: one finish chunk per choice.

        Finish chunks wait for the end of the handler's stream, so that usage reported after
        the finish (as OpenAI-compatible backends send it) still rides on the last one, once.
        A choice that ended without saying why finished normally: its reason is "stop".
        With ``include_usage``, usage comes last in a chunk of its own with no choices, as
        OpenAI always sends it: zero counts when the handler reported none.
        """
        indexes = sorted(self._started | self._finish_reasons.keys()) or [0]
        out = [
            self._finish_chunk(
                index, self._finish_reasons.get(index, "stop"), last=i == len(indexes) - 1
            )
            for i, index in enumerate(indexes)
        ]
        if self.include_usage:
            out.append(self._chunk([], usage=self._usage or _NO_USAGE))
        return out

    def error(self, exc: Exception) -> LLMCtlError:
        """Map an exception the handler's stream raised to the caller's error."""
        return from_handler_exception(exc, llm_provider=self.provider, model=self.model)

    def _from_generic(self, raw: Mapping[str, Any]) -> list[ModelResponseStream]:
        if self.id is None:
            self.id = raw.get("id") or _chat_id()
        index = raw.get("index") or 0
        delta: dict[str, Any] = {}
        if text := raw.get("text"):
            delta["content"] = text
        if tool_use := raw.get("tool_use"):
            delta["tool_calls"] = [tool_use]
        if reasoning := raw.get("reasoning_content"):
            delta["reasoning_content"] = reasoning
        if fields := raw.get("provider_specific_fields"):
            delta["provider_specific_fields"] = fields
        if function_call := raw.get("function_call"):
            delta["function_call"] = function_call
        if usage := raw.get("usage"):
            self._usage = usage
        logprobs = raw.get("logprobs")
        out = []
        if delta or logprobs is not None:
            out.append(self._delta_chunk(index, delta, logprobs))
        if raw.get("is_finished"):
            self._finish_reasons.setdefault(index, raw.get("finish_reason") or "stop")
        return out

    def _from_chunk(self, raw: ModelResponseStream) -> list[ModelResponseStream]:
        if self.id is None:
            self.id = raw.id
        if self._typed is None:  # id, created and model are final from here on
            self._typed = (
                type(self.id) is str
                and type(self.created) is int
                and (self.model is None or type(self.model) is str)
            )
        if (passed := self._pass_text(raw)) is not None:
            return [passed]
        if raw.usage is not None:
            self._usage = raw.usage
        out = []
        for choice in raw.choices:
            delta = choice.delta.model_dump(exclude_none=True)
            delta.pop("role", None)
            if delta.get("content") == "":  # as from a dict: no text is no content
                del delta["content"]
            logprobs = choice.get("logprobs")
            if delta or logprobs is not None:
                out.append(self._delta_chunk(choice.index, delta, logprobs))
            if choice.finish_reason:
                self._finish_reasons.setdefault(choice.index, choice.finish_reason)
        return out

    def _pass_text(self, raw: ModelResponseStream) -> ModelResponseStream | None:
        """Make a chunk that only adds text to one choice the caller's chunk, in place.

        Most chunks of a stream are such; rebuilding each would cost it a second model build
        (#6). The chunk ends equal to what :meth:`_chunk` would build from it (values, fields
        set, no extra keys): this stream's id, created and model, the role in the first delta
        of its choice only, no ``logprobs: null``, ``system_fingerprint`` or unknown keys.
        The chunk is the handler's, handed over: its sets and dicts are changed, not copied.

        :returns: the chunk, or None for any other chunk (it is then rebuilt), and for every
            chunk before :meth:`_from_chunk` has seen the stream's id.
        """
        # The checks cheapest and likeliest to fail first: a chunk of a subclass, with usage,
        # with anything but some text in one choice, or already a caller's (yielded twice), is
        # not passed.
        if (
            type(raw) is not ModelResponseStream
            or raw.usage is not None
            or len(choices := raw.choices) != 1
        ):
            return None
        choice = choices[0]
        delta = choice.delta
        content = delta.content
        choice_extra = choice.__pydantic_extra__
        if (
            type(content) is not str
            or not content
            or choice.finish_reason is not None
            or delta.tool_calls is not None
            or delta.function_call is not None
            or type(delta) is not Delta
            or type(choice) is not StreamingChoices
            or delta.__pydantic_extra__
            or (choice_extra and choice_extra.get("logprobs") is not None)
            or not self._typed
            or (fields := raw.__pydantic_fields_set__) == _CALLER_FIELDS
        ):
            return None
        if choice.index in self._started:
            if len(delta.__pydantic_fields_set__) != 1:  # more than the content: a role, a null
                delta.__dict__["role"] = None
                _set(delta, "__pydantic_fields_set__", {"content"})
        else:
            self._started.add(choice.index)
            delta.__dict__["role"] = "assistant"
            _set(delta, "__pydantic_fields_set__", {"content", "role"})
        if choice_extra:
            choice_extra.clear()
        _set(choice, "__pydantic_fields_set__", {"index", "delta"})
        values = raw.__dict__
        values["id"], values["created"], values["model"] = self.id, self.created, self.model
        values["object"], values["system_fingerprint"] = "chat.completion.chunk", None
        if extra := raw.__pydantic_extra__:
            extra.clear()
        fields.clear()
        fields.update(_CALLER_FIELDS)
        return raw

    def _delta_chunk(self, index: int, delta: dict[str, Any], logprobs: Any) -> ModelResponseStream:
        if index not in self._started:
            self._started.add(index)
            delta["role"] = "assistant"
        choice: dict[str, Any] = {"index": index, "delta": delta}
        if logprobs is not None:
            choice["logprobs"] = logprobs
        return self._chunk([choice])

    def _finish_chunk(self, index: int, reason: str, *, last: bool) -> ModelResponseStream:
        delta: dict[str, Any] = {}
        if index not in self._started:
            self._started.add(index)
            delta["role"] = "assistant"
        choice = {"index": index, "delta": delta, "finish_reason": reason}
        if last and not self.include_usage:
            return self._chunk([choice], usage=self._usage)
        return self._chunk([choice])

    def _chunk(self, choices: list[Any], usage: Any = None) -> ModelResponseStream:
        if self.id is None:
            self.id = _chat_id()
        # The validator itself: model_validate() adds 0.4 µs of Python to every chunk (#5).
        return ModelResponseStream.__pydantic_validator__.validate_python(  # type: ignore[no-any-return]
            {
                "id": self.id,
                "created": self.created,
                "model": self.model,
                "choices": choices,
                "usage": usage,
            }
        )


_set = object.__setattr__

#: The fields set on a chunk :meth:`StreamState._chunk` builds. A chunk that has them is
#: rebuilt, never changed in place: it may be one already given to a caller, yielded again.
_CALLER_FIELDS: Final = frozenset({"id", "created", "model", "choices", "usage"})


def classify_stream(raw: Any, state: StreamState) -> Iterable[Any] | AsyncIterable[Any]:
    """Return what a handler's stream method returned as an iterable of handler chunks.

    :raises InvalidResponseError: it returned something that is no stream.
    """
    if isinstance(raw, (Mapping, ModelResponseStream)):
        return (raw,)
    if isinstance(raw, ModelResponse):
        return response_chunks(raw)
    if hasattr(raw, "__aiter__") or (
        hasattr(raw, "__iter__") and not isinstance(raw, (str, bytes))
    ):
        return raw  # type: ignore[no-any-return]
    raise InvalidResponseError(
        f"{state.method}() returned {type(raw).__name__} {raw!r:.60}; return a "
        "GenericStreamingChunk dict, a list of them, or a generator or async generator "
        "that yields them",
        llm_provider=state.provider,
        model=state.model,
    )


def iterate(source: Iterable[Any], state: StreamState) -> Iterator[ModelResponseStream]:
    """Yield the caller chunks of a sync handler stream, ending with its finish chunks."""
    iterator = iter(source)
    try:
        for raw in iterator:
            # Most chunks of a plugin's stream are text deltas, passed with no list (#6).
            if type(raw) is ModelResponseStream and (chunk := state._pass_text(raw)) is not None:
                yield chunk
            else:
                yield from state.convert(raw)
    except Exception as exc:
        error = state.error(exc)
        if error is exc:
            raise
        raise error from exc
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
    yield from state.close()


async def aiterate(
    source: AsyncIterable[Any], state: StreamState
) -> AsyncIterator[ModelResponseStream]:
    """Yield the caller chunks of an async handler stream, ending with its finish chunks."""
    iterator = aiter(source)
    try:
        async for raw in iterator:
            # Most chunks of a plugin's stream are text deltas, passed with no list (#6).
            if type(raw) is ModelResponseStream and (chunk := state._pass_text(raw)) is not None:
                yield chunk
            else:
                for chunk in state.convert(raw):
                    yield chunk
    except Exception as exc:
        error = state.error(exc)
        if error is exc:
            raise
        raise error from exc
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            await aclose()
    for chunk in state.close():
        yield chunk


def response_chunks(response: ModelResponse) -> list[dict[str, Any]]:
    """Return a complete response as handler chunks, to stream it from a non-stream handler."""
    chunks: list[dict[str, Any]] = []
    last = len(response.choices) - 1
    for position, choice in enumerate(response.choices):
        message = choice.message
        extra = message.__pydantic_extra__ or {}
        first: dict[str, Any] = {"id": response.id, "index": choice.index}
        first["text"] = message.content or ""
        for key in ("reasoning_content", "provider_specific_fields"):
            if extra.get(key):
                first[key] = extra[key]
        if (logprobs := choice.get("logprobs")) is not None:
            first["logprobs"] = logprobs
        if message.function_call is not None:
            first["function_call"] = message.function_call.model_dump()
        chunks.append(first)
        for n, call in enumerate(message.tool_calls or ()):
            tool_use = {"index": n, **call.model_dump()}
            chunks.append({"index": choice.index, "text": "", "tool_use": tool_use})
        finish: dict[str, Any] = {"index": choice.index, "is_finished": True}
        finish["finish_reason"] = choice.finish_reason
        if position == last:
            finish["usage"] = response.usage
        chunks.append(finish)
    return chunks


class CustomStreamWrapper:
    """The stream ``completion(stream=True)`` and ``acompletion(stream=True)`` return.

    Iterate it with ``for`` (from ``completion``) or ``async for`` (from ``acompletion``); each
    item is a :class:`~llmctl.types.ModelResponseStream`. Rebuild the whole response from the
    chunks with :func:`llmctl.stream_chunk_builder`. Use it as a context manager (``with`` or
    ``async with``) to close the handler's generator as soon as you stop reading early.
    """

    __slots__ = ("_chunks", "custom_llm_provider", "model")

    def __init__(
        self,
        chunks: Iterator[ModelResponseStream] | AsyncIterator[ModelResponseStream],
        *,
        model: str,
        custom_llm_provider: str | None,
    ) -> None:
        self._chunks: Any = chunks
        self.model = model
        self.custom_llm_provider = custom_llm_provider

    def __iter__(self) -> Iterator[ModelResponseStream]:
        if not isinstance(self._chunks, Iterator):
            raise TypeError("this stream came from acompletion(); iterate it with `async for`")
        return self._chunks

    def __next__(self) -> ModelResponseStream:
        return next(self.__iter__())

    def __aiter__(self) -> AsyncIterator[ModelResponseStream]:
        if not isinstance(self._chunks, AsyncIterator):
            raise TypeError("this stream came from completion(); iterate it with `for`")
        return self._chunks

    async def __anext__(self) -> ModelResponseStream:
        return await anext(self.__aiter__())

    def __enter__(self) -> CustomStreamWrapper:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> CustomStreamWrapper:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def close(self) -> None:
        """Stop a sync stream early, closing the handler's generator."""
        self.__iter__().close()  # type: ignore[attr-defined]

    async def aclose(self) -> None:
        """Stop an async stream early, closing the handler's generator."""
        await self.__aiter__().aclose()  # type: ignore[attr-defined]
