"""OpenAI chat messages as Ollama's /api/chat takes them.

- ``content``: a string as it is; a list of content parts becomes the parts' text, joined by
  newlines, and their images (data URLs) as base64 in ``images``. Ollama requires ``content``,
  so a message without one sends ``""``.
- An assistant's ``tool_calls``: the function's name, and its arguments as a JSON object
  (OpenAI sends a JSON string); Ollama's calls carry no id.
- A ``tool`` message: its content, and ``tool_name``, the function whose call it answers (the
  message's ``name``, else the name of the earlier call its ``tool_call_id`` points to).
- An assistant's ``reasoning_content`` goes back as ``thinking``, as Ollama asks for it in
  the history of a thinking model.
- Roles: ``system``, ``user``, ``assistant``, ``tool``; ``developer`` is sent as ``system``,
  OpenAI's legacy ``function`` as ``tool``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any, Final

from llmctl.exceptions import BadRequestError

__all__ = ["ROLES", "ollama_messages"]

#: OpenAI's roles, and the Ollama role each is sent as.
ROLES: Final = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
    "function": "tool",
}


def ollama_messages(messages: Sequence[Any]) -> list[dict[str, Any]]:
    """Return OpenAI chat ``messages`` (dicts, or llmctl ``Message`` objects) in Ollama's shape.

    :raises BadRequestError: a message Ollama cannot take, naming where it is and the fix.
    """
    names: dict[str, Any] = {}  # tool call id -> function name, for the tool messages after
    return [_message(_as_dict(m, f"messages[{i}]"), i, names) for i, m in enumerate(messages)]


def _message(
    message: Mapping[str, Any], at: int, names: MutableMapping[str, Any]
) -> dict[str, Any]:
    where = f"messages[{at}]"
    role = ROLES.get(str(message.get("role")))
    if role is None:
        raise BadRequestError(
            f"{where} has the role {message.get('role')!r}; ollama takes {', '.join(ROLES)}",
            param=f"{where}.role",
        )
    text, images = _content(message.get("content"), where)
    out: dict[str, Any] = {"role": role, "content": text}
    if images:
        out["images"] = images
    if role == "assistant":
        calls = message.get("tool_calls")
        if calls:
            out["tool_calls"] = [
                _tool_call(call, f"{where}.tool_calls[{n}]", n, names)
                for n, call in enumerate(calls)
            ]
        if thinking := message.get("reasoning_content"):
            out["thinking"] = thinking
    elif role == "tool":
        name = message.get("name") or names.get(message.get("tool_call_id") or "")
        if name:
            out["tool_name"] = name
    return out


def _content(content: Any, where: str) -> tuple[str, list[str]]:
    """Return a message's text and its images (base64)."""
    if content is None:
        return "", []
    if isinstance(content, str):
        return content, []
    if not isinstance(content, list):
        raise BadRequestError(
            f"{where}.content must be a string or a list of content parts, "
            f"got {type(content).__name__}",
            param=f"{where}.content",
        )
    texts: list[str] = []
    images: list[str] = []
    for n, part in enumerate(content):
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            texts.append(str(part.get("text", "")))
        elif kind == "image_url":
            images.append(_image(part.get("image_url"), f"{where}.content[{n}]"))
        else:
            raise BadRequestError(
                f"{where}.content[{n}] is a part of type {kind!r}; ollama takes 'text' and "
                "'image_url' parts",
                param=f"{where}.content[{n}]",
            )
    return "\n".join(texts), images


def _image(value: Any, where: str) -> str:
    """Return the base64 data of an ``image_url`` part, which must be a data URL."""
    url = value.get("url") if isinstance(value, Mapping) else value
    if isinstance(url, str) and url.startswith("data:"):
        head, comma, data = url.partition(",")
        if comma and head.endswith(";base64"):
            return data
    shown = url[:60] + "..." if isinstance(url, str) and len(url) > 60 else url
    raise BadRequestError(
        f"{where}.image_url is {shown!r}; ollama takes images inline: send a base64 data URL "
        "(data:image/png;base64,...), not a link for the server to fetch",
        param=f"{where}.image_url",
    )


def _tool_call(
    value: Any, where: str, index: int, names: MutableMapping[str, Any]
) -> dict[str, Any]:
    """Return an assistant's tool call as Ollama's: arguments as a JSON object, no id."""
    call = _as_dict(value, where)
    function = call.get("function")
    if not isinstance(function, Mapping) or not function.get("name"):
        raise BadRequestError(
            f"{where} needs a function with a name, as in {{'id': 'call_1', 'type': "
            f"'function', 'function': {{'name': 'f', 'arguments': '{{}}'}}}}; got {call!r:.200}",
            param=where,
        )
    name = function["name"]
    arguments = function.get("arguments")
    if arguments is None or (isinstance(arguments, str) and not arguments.strip()):
        arguments = {}
    elif isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            arguments = None
    if not isinstance(arguments, dict):
        raise BadRequestError(
            f"{where}.function.arguments must be a JSON object (Ollama takes the arguments "
            f"as one), got {function.get('arguments')!r:.120}",
            param=f"{where}.function.arguments",
        )
    if call.get("id"):
        names[call["id"]] = name
    return {"type": "function", "function": {"index": index, "name": name, "arguments": arguments}}


def _as_dict(value: Any, where: str) -> Mapping[str, Any]:
    """Return a message or tool call as a mapping (a pydantic ``Message`` dumped)."""
    if isinstance(value, Mapping):
        return value
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        dumped = dump(exclude_none=True)
        if isinstance(dumped, Mapping):
            return dumped
    raise BadRequestError(
        f"{where} must be a dict such as {{'role': 'user', 'content': 'Hello'}}, "
        f"got {type(value).__name__}",
        param=where,
    )
