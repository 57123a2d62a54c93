"""What TorchServe answered, as llmctl's types: a complete response, or stream chunks.

TorchServe sends what the handler returned: a ``str`` as plain text, a ``dict`` or ``list``
as JSON, and each piece a streaming handler sends (``send_intermediate_predict_response``)
as it is, with no separator and no end marker: the end of the body is the end.

A complete answer's text (:func:`answer_text`) is, with the call's
:data:`~llmctl_torchserve.options.OUTPUT_FIELD`, the text at that path of each JSON value of
the body; without one:

- a JSON string, a JSON object's first string field of :data:`TEXT_FIELDS`, or the first
  element of a JSON list read the same way; several JSON values one after another (a handler
  that streams JSON pieces even when not asked) give their texts joined;
- anything else (plain text, or JSON without those fields) is the text as it is.

A stream (:class:`PieceReader`) is text pieces, or with ``torchserve_stream_format: json``
JSON values (:class:`~llmctl_torchserve.jsonseq.JsonSequence`), each read as above.

TorchServe reports no token counts, so none are invented: the usage stays unset, and llmctl
reports zeros where OpenAI's shape needs numbers.
"""

from __future__ import annotations

import json
from typing import Any, Final

from llmctl import Choices, GenericStreamingChunk, Message, ModelResponse
from llmctl.exceptions import BadGatewayError
from llmctl.http import Endpoint

from llmctl_torchserve.jsonseq import JsonSequence
from llmctl_torchserve.options import OUTPUT_FIELD, STREAM_FORMAT, Options

__all__ = [
    "LAST_CHUNK",
    "TEXT_FIELDS",
    "PieceReader",
    "answer_text",
    "model_response",
    "text_chunk",
]

#: Where the text usually is in a JSON answer, in the order they are tried.
TEXT_FIELDS: Final = ("generated_text", "text", "output")
#: The most of an answer quoted in an error message.
_QUOTE_LIMIT: Final = 300

#: The chunk that ends every stream: TorchServe gives neither finish reason nor usage.
LAST_CHUNK: Final[GenericStreamingChunk] = {
    "text": "",
    "tool_use": None,
    "is_finished": True,
    "finish_reason": "stop",
    "usage": None,
    "index": 0,
}


def answer_text(body: str, options: Options, server: Endpoint) -> str:
    """Return the text of a complete answer (see the module's description).

    :raises BadGatewayError: the call sets an output field, and the answer is not JSON or
        has no text there.
    """
    values = _json_values(body)
    path = options.output_field
    if path is not None:
        if values is None:
            where = f"{OUTPUT_FIELD}={'.'.join(path)!r}"
            raise _no_text(
                server, "is not JSON", body, f"unset {where} if your handler answers plain text"
            )
        return "".join(_at_path(value, path, server) for value in values)
    if values:
        texts = [text for value in values if (text := _usual_text(value)) is not None]
        if len(texts) == len(values):
            return "".join(texts)
    return body


class PieceReader:
    """Reads the pieces of a streamed body as they arrive, in the call's stream format.

    ``feed`` each text received; it returns the pieces of the answer's text it completed.
    ``close`` at the end of the body.
    """

    __slots__ = ("_json", "_output_field", "_server")

    def __init__(self, options: Options, server: Endpoint) -> None:
        self._json = JsonSequence() if options.stream_format == "json" else None
        self._output_field = options.output_field
        self._server = server

    def feed(self, text: str) -> list[str]:
        """Return the pieces of text that ``text`` completes.

        :raises BadGatewayError: a JSON piece has no text where it should.
        """
        if self._json is None:
            return [text]
        return [self._text(value) for value in self._json.feed(text)]

    def close(self) -> None:
        """Say that the body ended.

        :raises BadGatewayError: the body ended inside a JSON value, or with text that is
            not JSON.
        """
        if self._json is not None and self._json.rest.strip():
            raise _no_text(
                self._server,
                "ends with text that is not a complete JSON value",
                self._json.rest,
                f"set {STREAM_FORMAT}: text if your handler streams plain text",
            )

    def _text(self, value: Any) -> str:
        if self._output_field is not None:
            return _at_path(value, self._output_field, self._server)
        text = _usual_text(value)
        if text is None:
            raise _no_text(
                self._server,
                f"streamed a piece with no text in {', '.join(TEXT_FIELDS)}",
                json.dumps(value),
                f"set {OUTPUT_FIELD} to where your handler puts it, such as 'outputs.0.text'",
            )
        return text


def model_response(text: str, model: str) -> ModelResponse:
    """Return the complete response of ``text``; the usage stays zero (none is reported)."""
    return ModelResponse(
        model=model,
        choices=[Choices(message=Message(content=text), finish_reason="stop")],
    )


def text_chunk(text: str) -> GenericStreamingChunk:
    """Return the stream chunk of one piece of text."""
    return {
        "text": text,
        "tool_use": None,
        "is_finished": False,
        "finish_reason": "",
        "usage": None,
        "index": 0,
    }


def _json_values(body: str) -> list[Any] | None:
    """Return the JSON values that make up the whole of ``body``, or None if it is not JSON."""
    sequence = JsonSequence()
    values = sequence.feed(body)
    return values if values and not sequence.rest.strip() else None


def _usual_text(data: Any) -> str | None:
    if isinstance(data, str):
        return data
    if isinstance(data, list) and data:
        return _usual_text(data[0])
    if isinstance(data, dict):
        for field in TEXT_FIELDS:
            if isinstance(data.get(field), str):
                return str(data[field])
    return None


def _at_path(data: Any, path: tuple[str, ...], server: Endpoint) -> str:
    where = f"{OUTPUT_FIELD}={'.'.join(path)!r}"
    fix = f"correct {where} to the path of the text in your handler's answer"
    value = data
    for key in path:
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            raise _no_text(server, f"has no {key!r} on the path of {where}", json.dumps(data), fix)
    if not isinstance(value, str):
        raise _no_text(server, f"has {value!r:.80} at {where}, not text", json.dumps(data), fix)
    return value


def _no_text(server: Endpoint, problem: str, body: str, fix: str) -> BadGatewayError:
    quoted = body if len(body) <= _QUOTE_LIMIT else body[:_QUOTE_LIMIT] + "..."
    return BadGatewayError(
        f"{server.provider}'s answer {problem}: {quoted}; {fix}",
        llm_provider=server.provider,
        model=server.model,
    )
