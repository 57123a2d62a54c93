"""Request templates: JSON with ``{placeholders}`` for the values of a call.

A body template is any JSON value. A string that is exactly one placeholder, ``"{max_tokens}"``,
becomes the value itself with its JSON type (a number, a list of messages); a placeholder
inside a longer string, ``"model-{model}"``, is formatted into it (strings as they are, other
values as JSON). A key or list item whose placeholder has no value in the call is left out,
never sent as ``null``. ``{{`` and ``}}`` are literal braces. Keys are never templated.

A URL template (the ``path``) formats every value into the URL, percent-encoded, and needs a
value for each of its placeholders.

Templates are compiled once, when the API description is validated; rendering one is a walk
over closures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import quote

from llmctl_http.paths import MISSING

__all__ = ["MissingValueError", "Template", "TemplateError", "UrlTemplate"]

_Render = Callable[[Mapping[str, Any]], Any]

_TOKEN: Final = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class TemplateError(ValueError):
    """A template that cannot be compiled.

    :param where: the dotted place inside the template (``params.max_len``), or ``""``.
    :param message: what is wrong and how to write it.
    """

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


class MissingValueError(LookupError):
    """A URL template rendered without a value for one of its placeholders."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _parse(text: str, where: str) -> list[str | tuple[str]]:
    """Split a string into literal text and ``(name,)`` placeholders."""
    parts: list[str | tuple[str]] = []
    literal: list[str] = []
    end = 0
    for match in _TOKEN.finditer(text):
        literal.append(text[end : match.start()])
        end = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
        elif match.group(1) is None:
            raise TemplateError(
                where,
                f"{text!r} has a lone {token!r}; write {token * 2} for a literal brace",
            )
        elif not _NAME.fullmatch(match.group(1)):
            raise TemplateError(
                where,
                f"{token} in {text!r} is not a placeholder name (letters, digits and _, "
                "such as {max_tokens}); write {{ and }} for literal braces",
            )
        else:
            parts.append("".join(literal))
            literal = []
            parts.append((match.group(1),))
    literal.append(text[end:])
    parts.append("".join(literal))
    return [part for part in parts if part != ""]


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class Template:
    """A compiled body template; :meth:`render` fills it with a call's values.

    :param source: the template as written (any JSON value).
    :raises TemplateError: a string in it has a malformed placeholder or a lone brace.
    """

    __slots__ = ("_render", "names", "source")

    def __init__(self, source: Any) -> None:
        self.source = source
        #: Each placeholder name, with the place it first appears (``params.max_len``).
        self.names: dict[str, str] = {}
        self._render = self._compile(source, "")

    def __repr__(self) -> str:
        return f"Template({self.source!r})"

    def render(self, values: Mapping[str, Any]) -> Any:
        """Return the JSON value with ``values`` filled in (:data:`MISSING` if it is left out).

        :param values: placeholder name to value; a name absent here has no value.
        """
        return self._render(values)

    def _compile(self, source: Any, where: str) -> _Render:
        if isinstance(source, Mapping):
            return self._compile_object(source, where)
        if isinstance(source, list):
            return self._compile_list(source, where)
        if isinstance(source, str):
            return self._compile_text(source, where)
        if source is None or isinstance(source, (bool, int, float)):
            return lambda values: source
        raise TemplateError(where, f"{source!r} is not a JSON value")

    def _compile_object(self, source: Mapping[Any, Any], where: str) -> _Render:
        fields = [
            (str(key), self._compile(value, f"{where}.{key}" if where else str(key)))
            for key, value in source.items()
        ]

        def render(values: Mapping[str, Any]) -> Any:
            out = {}
            for key, field in fields:
                value = field(values)
                if value is not MISSING:
                    out[key] = value
            return out

        return render

    def _compile_list(self, source: list[Any], where: str) -> _Render:
        items = [
            self._compile(item, f"{where}.{n}" if where else str(n))
            for n, item in enumerate(source)
        ]

        def render(values: Mapping[str, Any]) -> Any:
            return [value for item in items if (value := item(values)) is not MISSING]

        return render

    def _compile_text(self, source: str, where: str) -> _Render:
        parts = _parse(source, where)
        for part in parts:
            if isinstance(part, tuple):
                self.names.setdefault(part[0], where)
        if not parts:
            return lambda values: ""
        if len(parts) == 1:
            only = parts[0]
            if isinstance(only, str):
                return lambda values: only
            name = only[0]
            return lambda values: values.get(name, MISSING)

        def render(values: Mapping[str, Any]) -> Any:
            out = []
            for part in parts:
                if isinstance(part, str):
                    out.append(part)
                elif (value := values.get(part[0], MISSING)) is MISSING:
                    return MISSING
                else:
                    out.append(_as_text(value))
            return "".join(out)

        return render


class UrlTemplate:
    """A compiled URL path template, ``/v2/generate/{model}``; values are percent-encoded.

    :param source: the path as written, relative to the call's ``api_base``.
    :raises TemplateError: a malformed placeholder or a lone brace.
    """

    __slots__ = ("_parts", "names", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self._parts = _parse(source, "")
        #: The placeholder names, in order of appearance.
        self.names: tuple[str, ...] = tuple(
            dict.fromkeys(part[0] for part in self._parts if isinstance(part, tuple))
        )

    def __repr__(self) -> str:
        return f"UrlTemplate({self.source!r})"

    def render(self, values: Mapping[str, Any]) -> str:
        """Return the path with ``values`` filled in, each percent-encoded (``/`` too).

        :raises MissingValueError: a placeholder has no value.
        :raises ValueError: a value is ``.`` or ``..``, which would change the path.
        """
        out = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = values.get(part[0], MISSING)
            if value is MISSING:
                raise MissingValueError(part[0])
            text = quote(_as_text(value), safe="")
            if text in (".", ".."):
                raise ValueError(f"{{{part[0]}}} is {text!r}, which would change the path")
            out.append(text)
        return "".join(out)
