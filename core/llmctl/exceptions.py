"""One error hierarchy, each class knowing its HTTP status and OpenAI error type.

::

    LLMCtlError
     ├── BadRequestError (400)
     │    ├── ProviderNotFoundError
     │    ├── UnsupportedOperationError
     │    ├── UnsupportedParamsError
     │    ├── ContextWindowExceededError
     │    └── ContentPolicyViolationError
     ├── AuthenticationError (401)
     ├── PermissionDeniedError (403)
     ├── NotFoundError (404)
     ├── Timeout (408, or 504 when the gateway timed out)
     ├── UnprocessableEntityError (422)
     ├── RateLimitError (429)
     ├── InternalServerError (500)
     │    ├── APIConnectionError
     │    ├── InvalidResponseError
     │    └── PluginLoadError
     ├── BadGatewayError (502)
     └── ServiceUnavailableError (503)

A handler's ``CustomLLMError(status_code, message)`` becomes the class of its status through
:func:`error_for_status`; any other exception from a handler becomes an
:class:`InternalServerError` with the original chained as ``__cause__``.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "APIConnectionError",
    "AuthenticationError",
    "BadGatewayError",
    "BadRequestError",
    "ContentPolicyViolationError",
    "ContextWindowExceededError",
    "InternalServerError",
    "InvalidResponseError",
    "LLMCtlError",
    "NotFoundError",
    "PermissionDeniedError",
    "PluginLoadError",
    "ProviderNotFoundError",
    "RateLimitError",
    "ServiceUnavailableError",
    "Timeout",
    "UnprocessableEntityError",
    "UnsupportedOperationError",
    "UnsupportedParamsError",
    "error_for_status",
    "from_handler_exception",
]


class LLMCtlError(Exception):
    """Base of every error llmctl raises on a call.

    :param message: what went wrong and how to fix it.
    :param llm_provider: the provider that was called, when known.
    :param model: the model that was asked for, when known.
    :param status_code: the HTTP status, when it differs from the class default
        (a 418 from a handler is a :class:`BadRequestError` that keeps 418).
    :param param: the request parameter at fault, as in OpenAI's error body.
    :param code: a short machine-readable code, as in OpenAI's error body.
    """

    status_code: int = 500
    type: ClassVar[str] = "api_error"
    #: Seconds the backend asked the caller to wait before retrying (its ``Retry-After``).
    retry_after: int | None = None

    def __init__(
        self,
        message: str,
        *,
        llm_provider: str | None = None,
        model: str | None = None,
        status_code: int | None = None,
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.llm_provider = llm_provider
        self.model = model
        if status_code is not None:
            self.status_code = status_code
        self.param = param
        self.code = code

    def __str__(self) -> str:
        origin = ", ".join(
            f"{label} {value!r}"
            for label, value in (("provider", self.llm_provider), ("model", self.model))
            if value
        )
        return f"{self.message} ({origin})" if origin else self.message

    def to_dict(self) -> dict[str, dict[str, str | None]]:
        """Return the error in OpenAI's JSON shape, ``{"error": {...}}``."""
        return {
            "error": {
                "message": str(self),
                "type": self.type,
                "param": self.param,
                "code": self.code if self.code is not None else str(self.status_code),
            }
        }


class BadRequestError(LLMCtlError):
    """The request is malformed or names something that does not exist."""

    status_code = 400
    type = "invalid_request_error"


class ProviderNotFoundError(BadRequestError):
    """No provider is registered under the name a model string starts with."""


class UnsupportedOperationError(BadRequestError):
    """The provider exists but does not implement the operation that was asked for."""


class UnsupportedParamsError(BadRequestError):
    """The call passed an OpenAI parameter the provider declares it does not accept.

    Pass ``drop_params=True`` (or set ``llmctl.drop_params = True``) to drop such parameters.
    """


class ContextWindowExceededError(BadRequestError):
    """The prompt is longer than the model's context window."""


class ContentPolicyViolationError(BadRequestError):
    """The backend refused the content."""


class AuthenticationError(LLMCtlError):
    """The backend rejected the credentials; check the api_key."""

    status_code = 401
    type = "authentication_error"


class PermissionDeniedError(LLMCtlError):
    """The credentials are valid but not allowed to do this."""

    status_code = 403
    type = "permission_error"


class NotFoundError(LLMCtlError):
    """The backend does not know the model or resource."""

    status_code = 404
    type = "not_found_error"


class Timeout(LLMCtlError):
    """The backend did not answer in time; raise the timeout or retry."""

    status_code = 408
    type = "timeout_error"


class UnprocessableEntityError(LLMCtlError):
    """The request is well-formed but its values cannot be processed."""

    status_code = 422
    type = "invalid_request_error"


class RateLimitError(LLMCtlError):
    """The backend refused the call for rate; retry later."""

    status_code = 429
    type = "rate_limit_error"


class InternalServerError(LLMCtlError):
    """The backend or the handler failed."""

    status_code = 500
    type = "api_error"


class APIConnectionError(InternalServerError):
    """The backend could not be reached (connection refused, reset, DNS)."""


class InvalidResponseError(InternalServerError):
    """The handler returned something that is not a response of the operation's type."""


class PluginLoadError(InternalServerError):
    """A provider plugin failed to load; the other providers keep working."""


class BadGatewayError(LLMCtlError):
    """The backend answered with garbage or an upstream failure."""

    status_code = 502
    type = "api_error"


class ServiceUnavailableError(LLMCtlError):
    """The backend is overloaded or down; retry later."""

    status_code = 503
    type = "api_error"


_CLASS_FOR_STATUS: dict[int, type[LLMCtlError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: Timeout,
    422: UnprocessableEntityError,
    429: RateLimitError,
    500: InternalServerError,
    502: BadGatewayError,
    503: ServiceUnavailableError,
    504: Timeout,
}


def error_for_status(
    status_code: int,
    message: str,
    *,
    llm_provider: str | None = None,
    model: str | None = None,
) -> LLMCtlError:
    """Build the error of the class that matches an HTTP status.

    A status without a class of its own maps by range: another 4xx is a
    :class:`BadRequestError`, anything else an :class:`InternalServerError`; either way the
    error keeps the original status.

    :returns: the error, not raised.
    """
    cls = _CLASS_FOR_STATUS.get(status_code)
    if cls is None:
        cls = BadRequestError if 400 <= status_code < 500 else InternalServerError
    return cls(message, llm_provider=llm_provider, model=model, status_code=status_code)


def from_handler_exception(
    exc: BaseException, *, llm_provider: str | None, model: str | None
) -> LLMCtlError:
    """Map what a handler raised to the llmctl error a caller receives.

    An llmctl error passes through (with provider and model filled in); anything carrying an
    integer ``status_code`` (``CustomLLMError``, an HTTP client's error) becomes the class of
    that status, keeping its message; a ``TimeoutError`` becomes :class:`Timeout`; anything
    else an :class:`InternalServerError` naming the exception. Chain the original with
    ``raise mapped from exc``.
    """
    if isinstance(exc, LLMCtlError):
        if exc.llm_provider is None:
            exc.llm_provider = llm_provider
        if exc.model is None:
            exc.model = model
        return exc
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and not isinstance(status, bool):
        message = getattr(exc, "message", None)
        return error_for_status(
            status,
            message if isinstance(message, str) else str(exc),
            llm_provider=llm_provider,
            model=model,
        )
    if isinstance(exc, TimeoutError):
        return Timeout(
            f"the handler timed out: {exc or 'no answer in time'}",
            llm_provider=llm_provider,
            model=model,
        )
    return InternalServerError(
        f"the handler raised {type(exc).__name__}: {exc}",
        llm_provider=llm_provider,
        model=model,
    )
