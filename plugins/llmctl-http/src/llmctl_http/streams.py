"""Streamed answers in the four framings, as ``GenericStreamingChunk`` dicts.

- ``none``: the complete answer as one chunk (:func:`response_chunks`);
- ``text``: each piece of a chunked plain-text body is a delta; the body's end is the end;
- ``ndjson``: one JSON object per line;
- ``sse``: server-sent events, JSON (read with ``stream.text``) or plain text, ended by a
  ``done`` data marker or value, or by the body's end.

Text deltas come as they arrive; the finish reason and the usage the events carried come in
one last chunk. A stream that stops before its ``done`` marker raises
:class:`~llmctl.exceptions.BadGatewayError`, a broken connection ``APIConnectionError``: a
stream never ends silently. Sync and async share :class:`StreamState`; only the loop differs.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from contextlib import aclosing, closing
from typing import Any

from llmctl import Choices, GenericStreamingChunk, Message, ModelResponse, Usage
from llmctl.exceptions import BadGatewayError
from llmctl.http import Endpoint
from llmctl.types import ChatCompletionUsageBlock

from llmctl_http.answers import Reader, finish_reason, usage_block
from llmctl_http.paths import MISSING
from llmctl_http.schema import Stream

__all__ = ["StreamState", "astream_chunks", "joined_response", "response_chunks", "stream_chunks"]


def _chunk(text: str = "", tool_use: Any = None) -> GenericStreamingChunk:
    return {
        "text": text,
        "tool_use": tool_use,
        "is_finished": False,
        "finish_reason": "",
        "usage": None,
        "index": 0,
    }


def _last(reason: str, usage: ChatCompletionUsageBlock | None) -> GenericStreamingChunk:
    return {
        "text": "",
        "tool_use": None,
        "is_finished": True,
        "finish_reason": reason,
        "usage": usage,
        "index": 0,
    }


class StreamState:
    """One stream: its request's items, the chunks each becomes, and what it has said so far.

    :param spec: the description's ``stream`` section.
    :param reader: reads paths out of events and names the request in messages.
    :param endpoint: where the request goes.
    """

    __slots__ = ("_calls", "_counts", "_reason", "endpoint", "finished", "reader", "spec")

    def __init__(self, spec: Stream, reader: Reader, endpoint: Endpoint) -> None:
        self.spec = spec
        self.reader = reader
        self.endpoint = endpoint
        #: Whether the ``done`` event has come (the stream then ends there).
        self.finished = False
        self._reason: str | None = None
        self._counts: dict[str, int] = {}
        #: The indexes of the tool calls streamed so far.
        self._calls: set[int] = set()

    def items(self, method: str, path: str, body: Any) -> Generator[Any, None, None]:
        """Send the request; yield text pieces, decoded lines or events as they arrive."""
        endpoint, framing = self.endpoint, self.spec.framing
        if framing == "text":
            return endpoint.stream_text(method, path, json=body)
        if framing == "ndjson":
            return endpoint.stream_ndjson(method, path, json=body)
        return endpoint.stream_sse(method, path, json=body, done=self._sse_done())

    def aitems(self, method: str, path: str, body: Any) -> AsyncGenerator[Any, None]:
        """Send the request without blocking; see :meth:`items`."""
        endpoint, framing = self.endpoint, self.spec.framing
        if framing == "text":
            return endpoint.astream_text(method, path, json=body)
        if framing == "ndjson":
            return endpoint.astream_ndjson(method, path, json=body)
        return endpoint.astream_sse(method, path, json=body, done=self._sse_done())

    def take(self, item: Any) -> list[GenericStreamingChunk]:
        """Return the chunks of one item of :meth:`items`."""
        framing = self.spec.framing
        if framing == "text":
            return [_chunk(item)] if item else []
        if framing == "ndjson":
            return self._event(item)
        data: str = item.data
        if self.spec.text is None:  # plain-text events
            return [_chunk(data)] if data else []
        return self._event(self.endpoint.parse_json(data)) if data else []

    def last(self) -> GenericStreamingChunk:
        """Return the last chunk: the finish reason and usage, once the stream has ended.

        :raises BadGatewayError: the description names a ``done`` value that never came.
        """
        done = self.spec.done
        if done is not None and done.path is not None and not self.finished:
            raise BadGatewayError(
                f"http: the stream of {self.reader.where} ended before its last event "
                f"({done.path.text} = {done.equals!r}); the answer is incomplete",
                llm_provider="http",
                model=self.reader.model,
            )
        reason = self._reason or "stop"
        if self._calls and reason == "stop":
            reason = "tool_calls"
        return _last(reason, usage_block(self._counts) if self._counts else None)

    def _sse_done(self) -> str | None:
        done = self.spec.done
        return done.data if done is not None else None

    def _event(self, event: Any) -> list[GenericStreamingChunk]:
        spec, reader = self.spec, self.reader
        chunks = []
        if spec.text is not None:
            text = spec.text.find(event)
            if text is not MISSING and (text := reader.text(text, event, spec.text)):
                chunks.append(_chunk(text))
        if spec.tool_calls is not None:
            value = spec.tool_calls.find(event)
            if value is not MISSING:
                for call in reader.tool_calls(value, event, spec.tool_calls, partial=True):
                    # A fragment keeps its index; a complete call (no index) is the next one.
                    index = call.setdefault("index", len(self._calls))
                    self._calls.add(index)
                    chunks.append(_chunk(tool_use=call))
        if spec.finish_reason is not None:
            found = spec.finish_reason.path.find(event)
            if found is not MISSING:
                self._reason = finish_reason(found, spec.finish_reason) or self._reason
        counts = reader.usage(event, spec.usage, strict=False)
        if counts:
            self._counts.update(counts)
        done = spec.done
        if done is not None and done.path is not None and done.path.find(event) == done.equals:
            self.finished = True
        return chunks


def stream_chunks(
    state: StreamState, method: str, path: str, body: Any
) -> Iterator[GenericStreamingChunk]:
    """Send the request and yield the chunks of its streamed answer."""
    with closing(state.items(method, path, body)) as items:
        for item in items:
            yield from state.take(item)
            if state.finished:
                break
    yield state.last()


async def astream_chunks(
    state: StreamState, method: str, path: str, body: Any
) -> AsyncIterator[GenericStreamingChunk]:
    """Send the request and yield the chunks of its streamed answer, asynchronously."""
    async with aclosing(state.aitems(method, path, body)) as items:
        async for item in items:
            for chunk in state.take(item):
                yield chunk
            if state.finished:
                break
    yield state.last()


def response_chunks(response: ModelResponse) -> list[GenericStreamingChunk]:
    """Return a complete answer as a stream (``framing: none``): text, tool calls, then last."""
    choice = response.choices[0]
    chunks = [_chunk(choice.message.content)] if choice.message.content else []
    for n, call in enumerate(choice.message.tool_calls or ()):
        function = {"name": call.function.name, "arguments": call.function.arguments}
        chunks.append(
            _chunk(tool_use={"id": call.id, "type": "function", "function": function, "index": n})
        )
    usage = response.usage
    counts = usage_block(usage.model_dump()) if usage.total_tokens else None
    return [*chunks, _last(choice.finish_reason, counts)]


def joined_response(chunks: list[GenericStreamingChunk], model: str) -> ModelResponse:
    """Return a whole stream's chunks as one complete answer (an API that only streams)."""
    text = "".join(chunk["text"] for chunk in chunks)
    calls = [
        {key: value for key, value in tool.items() if key != "index"}
        for chunk in chunks
        if (tool := chunk["tool_use"])
    ]
    last = chunks[-1]
    usage = last["usage"]
    return ModelResponse(
        model=model,
        choices=[
            Choices(
                finish_reason=last["finish_reason"],
                message=Message.model_validate(
                    {"content": text if text or not calls else None, "tool_calls": calls or None}
                ),
            )
        ],
        usage=Usage(**usage) if usage else Usage(),
    )
