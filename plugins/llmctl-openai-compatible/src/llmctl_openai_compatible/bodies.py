"""The request bodies: OpenAI's own, with the call's parameters under their own names.

It is OpenAI's API, so every parameter of the call goes into the body as it is: OpenAI's
(``temperature``, ``tools``, ``response_format``, ...) and the server's own from config.yaml
or the call (vLLM's ``top_k``, ``repetition_penalty``, ``guided_json``, ...), which
OpenAI-compatible servers read from the top level of the body. An ``extra_body`` dict, as
the ``openai`` client takes it, is merged into the body too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmctl.exceptions import BadRequestError

__all__ = ["chat_body", "embedding_body", "image_body", "stream_body"]


def chat_body(
    model: str, messages: list[Any], optional_params: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the body of ``POST /v1/chat/completions`` answered at once."""
    body = {"model": model, "messages": _plain(messages), **optional_params}
    if "extra_body" in body:
        _merge_extra_body(body)
    return body


def stream_body(
    model: str, messages: list[Any], optional_params: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the body of a streamed ``POST /v1/chat/completions``.

    It always asks for usage (``stream_options.include_usage``), in a last chunk of its own,
    so that a streamed answer reports its tokens; llmctl then shows it as the caller asked.
    """
    body = chat_body(model, messages, optional_params)
    body["stream"] = True
    options = body.get("stream_options")
    if not isinstance(options, Mapping):
        body["stream_options"] = {"include_usage": True}
    elif not options.get("include_usage"):
        body["stream_options"] = {**options, "include_usage": True}
    return body


def embedding_body(
    model: str, input: str | list[Any], optional_params: Mapping[str, Any]
) -> dict[str, Any]:
    """Return the body of ``POST /v1/embeddings``."""
    body = {"model": model, "input": input, **optional_params}
    if "extra_body" in body:
        _merge_extra_body(body)
    return body


def image_body(model: str, prompt: str, optional_params: Mapping[str, Any]) -> dict[str, Any]:
    """Return the body of ``POST /v1/images/generations``."""
    body = {"model": model, "prompt": prompt, **optional_params}
    if "extra_body" in body:
        _merge_extra_body(body)
    return body


def _merge_extra_body(body: dict[str, Any]) -> None:
    extra = body.pop("extra_body")
    if extra is None:
        return
    if not isinstance(extra, Mapping):
        raise BadRequestError(
            f"extra_body must be a dict of fields to add to the request body, got {extra!r:.80}",
            param="extra_body",
        )
    body.update(extra)


def _plain(messages: list[Any]) -> list[Any]:
    """Return ``messages`` as JSON-ready dicts (a response's ``Message`` may be among them).

    The usual list of dicts is returned as it is, without a copy.
    """
    for message in messages:
        if type(message) is not dict:
            return [_as_dict(m, i) for i, m in enumerate(messages)]
    return messages


def _as_dict(message: Any, index: int) -> Any:
    if isinstance(message, dict):
        return message
    if isinstance(message, Mapping):
        return dict(message)
    dump = getattr(message, "model_dump", None)
    if callable(dump):  # a pydantic model: llmctl's Message, or the openai client's
        return dump(exclude_none=True)
    raise BadRequestError(
        f"messages[{index}] is a {type(message).__name__}, which cannot be sent as JSON; "
        "send dicts such as {'role': 'user', 'content': 'Hello'}",
        param=f"messages[{index}]",
    )
