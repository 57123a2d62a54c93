"""Dotted paths into a decoded JSON answer: ``output.text``, ``choices.0.text``, ``data.*.vector``.

A path is compiled once, when the API description is validated, and looked up on every
answer. Its segments are object keys, list indexes (``0``, ``-1`` for the last item) and, where
a list of values is wanted (``embedding.vectors``), ``*`` for every item of a list. The empty
path is the whole answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

__all__ = ["MISSING", "JsonPath", "snippet"]


class _Missing:
    """The value of a path the answer does not have (``None`` is JSON's ``null``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


#: What :meth:`JsonPath.find` returns when the answer lacks the path.
MISSING: Final = _Missing()

_INDEX: Final = re.compile(r"-?\d+")
#: The most of an answer quoted in a message.
_SNIPPET_LIMIT: Final = 300


class JsonPath:
    """A compiled dotted path; :meth:`find` looks it up in a decoded JSON value.

    :param text: the path as written, ``choices.0.text``.
    :param wildcard: whether ``*`` (every item of a list) may appear.
    :raises ValueError: the path has an empty segment, or a ``*`` where none is allowed.
    """

    __slots__ = ("_segments", "text")

    def __init__(self, text: str, *, wildcard: bool = False) -> None:
        self.text = text
        segments: list[str | int] = []
        for part in text.split(".") if text else ():
            if not part:
                raise ValueError(
                    f"{text!r} has an empty segment; write keys and list indexes separated "
                    "by single dots, such as output.choices.0.text"
                )
            if part == "*" and not wildcard:
                raise ValueError(
                    f"{text!r} has '*', which only embedding.vectors accepts; name one item "
                    "with its index, such as choices.0.text"
                )
            segments.append(int(part) if _INDEX.fullmatch(part) else part)
        self._segments: tuple[str | int, ...] = tuple(segments)

    def __repr__(self) -> str:
        return f"JsonPath({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonPath) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def find(self, data: Any) -> Any:
        """Return the value at this path in ``data``, or :data:`MISSING`."""
        return _walk(data, self._segments, ())[0]

    def why_missing(self, data: Any) -> str:
        """Say where the lookup of this path in ``data`` stopped, for an error message."""
        return _walk(data, self._segments, ())[1]


def _walk(
    data: Any, segments: tuple[str | int, ...], done: tuple[str | int, ...]
) -> tuple[Any, str]:
    """Follow ``segments`` from ``data`` (reached by ``done``); return ``(value, why_missing)``."""
    for n, segment in enumerate(segments):
        where = ".".join(map(str, done)) or "the answer"
        if segment == "*":
            if not isinstance(data, list):
                return MISSING, f"{where} is {_kind(data)}, not a list"
            items = []
            for i, item in enumerate(data):
                value, why = _walk(item, segments[n + 1 :], (*done, i))
                if value is MISSING:
                    return MISSING, why
                items.append(value)
            return items, ""
        if isinstance(data, Mapping):
            key = str(segment)
            if key not in data:
                keys = ", ".join(map(str, list(data)[:10])) or "none"
                return MISSING, f"{where} has no key {key!r} (its keys: {keys})"
            data = data[key]
        elif isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
            if not isinstance(segment, int):
                return MISSING, f"{where} is a list, so {segment!r} must be an index"
            if not -len(data) <= segment < len(data):
                return MISSING, f"{where} is a list of {len(data)} items, with no index {segment}"
            data = data[segment]
        else:
            return MISSING, f"{where} is {_kind(data)}, not an object or a list"
        done = (*done, segment)
    return data, ""


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def snippet(data: Any) -> str:
    """Return a short JSON rendering of ``data`` to quote in an error message."""
    try:
        text = json.dumps(data, ensure_ascii=False, default=repr)
    except ValueError:  # a circular structure cannot come from JSON, but never fail here
        text = repr(data)
    return text if len(text) <= _SNIPPET_LIMIT else text[:_SNIPPET_LIMIT] + "..."
