"""JSON values sent one after another (``{"text": "Hel"}{"text": "lo"}``), decoded as they complete.

TorchServe's own LLM handlers (``vllm_handler.py``, ``trt_llm_handler.py``) send each piece
of a stream as a JSON object, one ``send_intermediate_predict_response`` per piece, with no
separator. The HTTP chunks that carry them may be split or joined on the way, so the pieces
are found in the text itself: each complete value is decoded as soon as its last character
has arrived. Whitespace (newlines included) between values is allowed.
"""

from __future__ import annotations

import json
from typing import Any, Final

__all__ = ["JsonSequence"]

_DECODER: Final = json.JSONDecoder()
_WHITESPACE: Final = " \t\r\n"


class JsonSequence:
    """An incremental decoder of concatenated JSON values.

    ``feed`` the text as it arrives; it returns the values completed so far. ``rest`` is
    what is left undecoded: after the last piece, anything there is a broken value.
    """

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, text: str) -> list[Any]:
        """Add ``text`` and return the values it completed, in order."""
        buffer = self._buffer + text
        values: list[Any] = []
        start = 0
        while True:
            while start < len(buffer) and buffer[start] in _WHITESPACE:
                start += 1
            if start == len(buffer):
                break
            try:
                value, start = _DECODER.raw_decode(buffer, start)
            except ValueError:
                break  # incomplete: the rest of it is still on its way
            values.append(value)
        self._buffer = buffer[start:]
        return values

    @property
    def rest(self) -> str:
        """The text not decoded yet (empty once every value has completed)."""
        return self._buffer
