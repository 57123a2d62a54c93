"""Every failure answered in OpenAI's error shape, with the status that matches it.

``{"error": {"message", "type", "param", "code"}}``: never a framework's ``{"detail": ...}``
and never a traceback (that goes to the log, under the request id).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Final

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from llmctl.exceptions import LLMCtlError

__all__ = [
    "ClientDisconnected",
    "answer_error",
    "error_body",
    "error_response",
    "exception_handlers",
]

_logger = logging.getLogger("llmctl.proxy")

#: Seconds a client is told to wait after a 429 that came with no time of its own.
DEFAULT_RETRY_AFTER: Final = 1


class ClientDisconnected(Exception):
    """The client went away before its answer was ready; nobody is left to answer."""


def error_body(
    message: str, type: str, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """Return an error in OpenAI's shape."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def error_response(error: LLMCtlError) -> Response:
    """Answer ``error`` with its status, in OpenAI's shape (``retry-after`` on 429)."""
    headers = None
    if error.status_code == 429:
        headers = {"retry-after": str(_retry_after(error))}
    return Response(
        json.dumps(error.to_dict()).encode(),
        error.status_code,
        headers,
        media_type="application/json",
    )


def _retry_after(error: BaseException) -> int:
    """Return the seconds the backend asked for (``retry_after`` on the error or its cause)."""
    for source in (error, error.__cause__):
        value = getattr(source, "retry_after", None)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            return max(1, round(value))
    return DEFAULT_RETRY_AFTER


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    headers = dict(exc.headers or {})
    if status == 404:
        message = (
            f"no route {request.url.path!r}; this server answers /v1/chat/completions, "
            "/v1/completions, /v1/embeddings, /v1/images/generations, /v1/models and /health "
            "(with or without /v1)"
        )
    elif status == 405:
        allowed = next((v for k, v in headers.items() if k.lower() == "allow"), "")
        message = f"{request.method} is not allowed on {request.url.path!r}; use {allowed}"
    else:
        message = str(exc.detail)
    # The router's 404 and 405: the request is at fault.
    body = error_body(message, "invalid_request_error", code=str(status))
    return Response(json.dumps(body).encode(), status, headers, media_type="application/json")


async def _llmctl_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LLMCtlError)
    if exc.status_code >= 500:
        # The handler's own exception, with its traceback, is for the operator's eyes only.
        cause = exc.__cause__ if exc.status_code == 500 else None
        _logger.warning("%s %s failed: %s", request.method, request.url.path, exc, exc_info=cause)
    return error_response(exc)


async def _disconnected(request: Request, exc: Exception) -> Response:
    # The client left and its call was cancelled: there is nobody to answer.
    _logger.info(
        "%s %s: the client disconnected; its call was cancelled", request.method, request.url.path
    )
    return Response(status_code=499)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Ours, not the handler's (those arrive mapped): log the traceback, answer without it.
    _logger.error("%s %s: unexpected error", request.method, request.url.path, exc_info=exc)
    body = error_body(
        "internal error in the llmctl server; the server log has the details under this "
        "request's x-request-id",
        "api_error",
        code="500",
    )
    return Response(json.dumps(body).encode(), 500, media_type="application/json")


#: Starlette's ``exception_handlers``, keyed by class.
exception_handlers: Final = {
    HTTPException: _http_error,
    LLMCtlError: _llmctl_error,
    ClientDisconnected: _disconnected,
    Exception: _unexpected,
}


async def answer_error(request: Request, exc: Exception) -> Response:
    """Answer ``exc`` as the application would: the handler of its nearest class above."""
    for cls in type(exc).__mro__:
        handler = exception_handlers.get(cls)
        if handler is not None:
            return await handler(request, exc)
    return await _unexpected(request, exc)  # not reached: Exception has a handler
