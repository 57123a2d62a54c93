"""The checks across an API description's keys, run once its keys each have their shape.

Every placeholder is a name the call has, every option and default is used, the stream
section fits its framing, a bodyless method has no body. Each problem is one line,
``<key path>: <what is wrong and how to write it>``.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING, Final

from llmctl_http.params import (
    CHAT_PARAMS,
    CHAT_VALUES,
    EMBEDDING_PARAMS,
    EMBEDDING_VALUES,
    OTHER_OPENAI_PARAMS,
    RESERVED,
    SUPPORTED_PARAMS,
)

if TYPE_CHECKING:  # schema imports this module from its validator
    from llmctl_http.schema import ApiDescription
    from llmctl_http.template import Template

__all__ = ["problems"]

_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BODYLESS: Final = ("GET", "DELETE")


def problems(api: ApiDescription) -> list[str]:
    """Return every problem across the keys of ``api``, one ``<where>: <problem>`` line each."""
    found = [
        *_option_problems(api),
        *_placeholder_problems(api),
        *_answer_problems(api),
        *_stream_problems(api),
        *_body_problems(api),
    ]
    return list(dict.fromkeys(found))


def _option_problems(api: ApiDescription) -> list[str]:
    found = []
    declared = [(f"options.{n}", name) for n, name in enumerate(api.options)]
    declared += [(f"defaults.{name}", name) for name in api.defaults]
    used = _all_names(api)
    for where, name in declared:
        if not _NAME.fullmatch(name):
            found.append(f"{where}: {name!r} is not a placeholder name (letters, digits, _)")
        elif name in CHAT_VALUES | EMBEDDING_VALUES:
            found.append(f"{where}: {{{name}}} is a value of every call; it has no default")
        elif name in RESERVED:
            found.append(f"{where}: {name!r} is a key of llmctl's config, not an option")
        elif name in OTHER_OPENAI_PARAMS:
            found.append(f"{where}: {_not_sent(name)}")
        elif name in SUPPORTED_PARAMS and where.startswith("options"):
            found.append(
                f"{where}: {name} is an OpenAI parameter: use {{{name}}} without declaring "
                "it (give it a value in defaults to have one when the call has none)"
            )
        elif name not in used:
            found.append(f"{where}: no template uses {{{name}}}; use it or remove it")
    return found


def _placeholder_problems(api: ApiDescription) -> list[str]:
    own = api.own_options()
    chat = CHAT_VALUES | CHAT_PARAMS | own
    embed = EMBEDDING_VALUES | EMBEDDING_PARAMS | own
    templates: list[tuple[str, dict[str, str], frozenset[str], str]] = [
        ("path", dict.fromkeys(api.path.names, ""), chat, "chat"),
    ]
    if api.body is not None:
        templates.append(("body", api.body.names, chat, "chat"))
    if api.stream is not None:
        if api.stream.path is not None:
            templates.append(
                ("stream.path", dict.fromkeys(api.stream.path.names, ""), chat, "chat")
            )
        if api.stream.body is not None:
            templates.append(("stream.body", api.stream.body.names, chat, "chat"))
    if api.embedding is not None:
        spec = api.embedding
        templates.append(("embedding.path", dict.fromkeys(spec.path.names, ""), embed, "embedding"))
        if spec.body is not None:
            templates.append(("embedding.body", spec.body.names, embed, "embedding"))
    found = []
    for field, names, known, kind in templates:
        for name, inner in names.items():
            if name not in known:
                where = f"{field}.{inner}" if inner else field
                found.append(f"{where}: {_unknown(name, known, kind)}")
    if api.health is not None and api.health.path.names:
        found.append(
            "health.path: a health check has no call, so no values: write the path without "
            f"placeholders (it has {{{api.health.path.names[0]}}})"
        )
    return found


def _answer_problems(api: ApiDescription) -> list[str]:
    found = []
    answer = api.response
    if answer is None:
        if api.framing == "none":
            found.append(
                "response: required: where the answer's text is (response: {text: "
                "output.text}), unless stream.framing is text, ndjson or sse (completions are "
                "then the stream joined)"
            )
        return found
    if answer.format == "json" and answer.text is None:
        found.append(
            "response.text: required: the dotted path of the answer's text, such as "
            "output.text or choices.0.message.content"
        )
    if answer.format == "text":
        for key in ("text", "finish_reason", "usage", "tool_calls"):
            if getattr(answer, key) is not None:
                found.append(
                    f"response.{key}: with format text the whole answer is the text, with no "
                    f"{key} to read; remove it"
                )
    return found


def _stream_problems(api: ApiDescription) -> list[str]:
    stream = api.stream
    if stream is None:
        return []
    found = []
    framing = stream.framing
    if framing == "none":
        for key in ("path", "method", "body", "text", "done", "finish_reason", "usage"):
            if getattr(stream, key) is not None:
                found.append(
                    f"stream.{key}: framing none serves the complete answer (http.response) "
                    "as one chunk; remove it"
                )
        if stream.tool_calls is not None:
            found.append("stream.tool_calls: framing none reads http.response; remove it")
    elif framing == "text":
        for key in ("text", "done", "finish_reason", "usage", "tool_calls"):
            if getattr(stream, key) is not None:
                found.append(
                    f"stream.{key}: framing text streams plain text, with no {key} to read; "
                    "remove it"
                )
    elif framing == "ndjson":
        if stream.text is None:
            found.append(
                "stream.text: required with framing ndjson: the dotted path of each line's "
                "text, such as delta or message.content"
            )
        if stream.done is not None and stream.done.data is not None:
            found.append(
                "stream.done: an NDJSON stream ends at an object, not at SSE data: write "
                "done: {path: done, equals: true}"
            )
    elif stream.text is None:  # sse with plain-text events
        for key in ("finish_reason", "usage", "tool_calls"):
            if getattr(stream, key) is not None:
                found.append(
                    f"stream.{key}: without stream.text the events are plain text, with no "
                    f"{key} to read; give stream.text the path of the text in each JSON event"
                )
        if stream.done is not None and stream.done.path is not None:
            found.append(
                "stream.done: without stream.text the events are plain text: give the data "
                "that ends the stream, such as done: '[DONE]'"
            )
    return found


def _body_problems(api: ApiDescription) -> list[str]:
    requests: list[tuple[str, str, Template | None]] = [("body", api.method, api.body)]
    if api.stream is not None and api.stream.framing != "none":
        body = api.stream.body if api.stream.body is not None else api.body
        where = "stream.body" if api.stream.body is not None else "body"
        requests.append((where, api.stream.method or api.method, body))
    if api.embedding is not None:
        requests.append(("embedding.body", api.embedding.method, api.embedding.body))
    return [
        f"{where}: a {method} request has no body; put values in the path's query string, "
        "such as /generate?q={prompt}, or use POST"
        for where, method, body in requests
        if method in _BODYLESS and body is not None
    ]


def _all_names(api: ApiDescription) -> set[str]:
    names = set(api.path.names)
    templates = [api.body]
    if api.stream is not None:
        names.update(api.stream.path.names if api.stream.path else ())
        templates.append(api.stream.body)
    if api.embedding is not None:
        names.update(api.embedding.path.names)
        templates.append(api.embedding.body)
    for template in templates:
        if template is not None:
            names.update(template.names)
    return names


def _unknown(name: str, known: frozenset[str], kind: str) -> str:
    if name in OTHER_OPENAI_PARAMS:
        return _not_sent(name)
    if kind == "chat" and name in EMBEDDING_VALUES | EMBEDDING_PARAMS:
        return (
            f"{{{name}}} is a value of embedding calls (http.embedding); chat templates have "
            "{model}, {messages}, {prompt}, {stream} and the OpenAI chat parameters"
        )
    if kind == "embedding" and name in CHAT_VALUES | CHAT_PARAMS:
        return (
            f"{{{name}}} is a value of chat calls; embedding templates have {{model}}, "
            "{input}, {inputs}, {dimensions} and {user}"
        )
    close = difflib.get_close_matches(name, sorted(known), n=1)
    guess = f" (did you mean {{{close[0]}}}?)" if close else ""
    return (
        f"unknown placeholder {{{name}}}{guess}. Declare an option of your API's own in "
        "http.options, or give it a value in http.defaults"
    )


def _not_sent(name: str) -> str:
    return (
        f"{name} is an OpenAI parameter llmctl-http does not send (llmctl refuses it before "
        "the call, as the answer it changes cannot be read back)"
    )
