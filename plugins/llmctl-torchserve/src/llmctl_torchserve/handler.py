"""``TorchServeLLM``: the provider ``torchserve``, TorchServe's inference API behind llmctl.

- chat: ``POST /predictions/{model_name}[/{version}]`` with a JSON body
  (:mod:`llmctl_torchserve.body`), answered at once or streamed over HTTP chunked encoding
  (each piece the handler sends with ``send_intermediate_predict_response``);
- health check: ``GET /ping``, which must answer ``{"status": "Healthy"}``;
- token authorization: ``Authorization: Bearer <inference key>``.

Each sync method and its async twin build the same request and read the answer the same way;
only the send differs. Every failure is an :mod:`llmctl.exceptions` error keeping TorchServe's
``message`` (:mod:`llmctl.http` maps statuses and transport failures).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Mapping
from contextlib import aclosing, closing, contextmanager
from dataclasses import dataclass
from typing import Any, Final, cast

from llmctl import CustomLLM, GenericStreamingChunk, ModelResponse
from llmctl.exceptions import AuthenticationError, BadRequestError, ServiceUnavailableError
from llmctl.http import Endpoint

from llmctl_torchserve.answer import (
    LAST_CHUNK,
    PieceReader,
    answer_text,
    model_response,
    text_chunk,
)
from llmctl_torchserve.body import SUPPORTED_PARAMS, predictions_path, request_body
from llmctl_torchserve.options import Options

__all__ = ["API_BASE_ENV", "API_KEY_ENV", "DEFAULT_API_BASE", "TorchServeLLM"]

#: The environment variable of the server's address, when a call gives no ``api_base``.
API_BASE_ENV: Final = "TORCHSERVE_API_BASE"
#: The environment variable of the inference key, when a call gives no ``api_key``.
API_KEY_ENV: Final = "TORCHSERVE_API_KEY"
#: TorchServe's inference API where it listens by default.
DEFAULT_API_BASE: Final = "http://localhost:8080"

_PROVIDER: Final = "torchserve"
#: What TorchServe says (as HTTP 400, InvalidKeyException) when the token is wrong or missing.
_TOKEN_FAILED: Final = "Token Authentication failed"
_KEY_HINT: Final = (
    f"; pass api_key=<the inference key from TorchServe's key_file.json>, set {API_KEY_ENV}, "
    "or start TorchServe with --disable-token-auth"
)

_Chunks = Generator[GenericStreamingChunk, None, None]
_AsyncChunks = AsyncGenerator[GenericStreamingChunk, None]


class TorchServeLLM(CustomLLM):
    """A TorchServe server; llmctl instantiates it once.

    ``model`` is the model's name, with its version after a slash when the call wants one
    (``torchserve/llama`` or ``torchserve/llama/2.0``). The server is the call's ``api_base``,
    else ``$TORCHSERVE_API_BASE``, else ``http://localhost:8080``; the inference key is the
    call's ``api_key``, else ``$TORCHSERVE_API_KEY``, else none is sent.
    """

    # -- chat ----------------------------------------------------------------------------------

    def completion(
        self, *, model: str, messages: list[Any], optional_params: Mapping[str, Any], **kwargs: Any
    ) -> ModelResponse:
        """Answer a chat completion: ``POST /predictions/{model}``, the whole body read."""
        call = _Call.build(model, messages, optional_params, kwargs, stream=False)
        with _token_errors(call.server):
            answer = "".join(call.server.stream_text("POST", call.path, json=call.body))
        return call.response(answer)

    async def acompletion(
        self, *, model: str, messages: list[Any], optional_params: Mapping[str, Any], **kwargs: Any
    ) -> ModelResponse:
        """Answer a chat completion without blocking the event loop."""
        call = _Call.build(model, messages, optional_params, kwargs, stream=False)
        with _token_errors(call.server):
            texts = call.server.astream_text("POST", call.path, json=call.body)
            answer = "".join([text async for text in texts])
        return call.response(answer)

    def streaming(
        self, *, model: str, messages: list[Any], optional_params: Mapping[str, Any], **kwargs: Any
    ) -> Iterator[GenericStreamingChunk]:
        """Stream a chat completion; the server's first piece has arrived when it returns.

        Waiting for it makes an error status fail the call itself, as OpenAI's client does,
        rather than the first read of the stream.
        """
        call = _Call.build(model, messages, optional_params, kwargs, stream=True)
        chunks = _chunks(call)
        return _resumed(next(chunks), chunks)

    # A coroutine giving the stream (llmctl awaits it), rather than an async generator, so
    # that an error status fails the call itself here too.
    async def astreaming(
        self, *, model: str, messages: list[Any], optional_params: Mapping[str, Any], **kwargs: Any
    ) -> AsyncIterator[GenericStreamingChunk]:
        """Stream a chat completion asynchronously; see :meth:`streaming`."""
        call = _Call.build(model, messages, optional_params, kwargs, stream=True)
        chunks = _achunks(call)
        return _aresumed(await anext(chunks), chunks)

    # -- about the provider --------------------------------------------------------------------

    def get_supported_openai_params(self, model: str) -> list[str]:
        """Return the OpenAI parameters sent to the handler (:data:`SUPPORTED_PARAMS`).

        llmctl refuses any other OpenAI parameter, or drops it with ``drop_params=True``.
        """
        return list(SUPPORTED_PARAMS)

    def health_check(
        self, api_base: str | None = None, api_key: str | None = None, timeout: Any = None
    ) -> dict[str, Any]:
        """Ask ``GET /ping``, which bills nothing; return TorchServe's ``{"status": "Healthy"}``.

        :raises ServiceUnavailableError: TorchServe answered a status other than Healthy.
        :raises LLMCtlError: TorchServe did not answer, or answered an error status.
        """
        server = _endpoint(None, api_base, api_key, None, timeout, None)
        with _token_errors(server):
            answer = server.send("GET", "/ping")
        status = answer.get("status") if isinstance(answer, dict) else None
        if status != "Healthy":
            raise ServiceUnavailableError(
                f"{_PROVIDER} at {server.base_url} answered GET /ping with {answer!r:.200}, "
                "not {'status': 'Healthy'}; a model has fewer workers than its minWorkers "
                "(see TorchServe's logs)",
                llm_provider=_PROVIDER,
            )
        return cast(dict[str, Any], answer)


@dataclass(frozen=True, slots=True)
class _Call:
    """One call's request, built once for its sync and async sends."""

    model: str
    server: Endpoint
    path: str
    body: dict[str, Any]
    options: Options

    @classmethod
    def build(
        cls,
        model: str,
        messages: list[Any],
        optional_params: Mapping[str, Any],
        arguments: Mapping[str, Any],
        *,
        stream: bool,
    ) -> _Call:
        """Check the call's options and build its endpoint, path and body.

        :param arguments: the handler's other keyword arguments (``api_base``, ``api_key``,
            ``headers``, ``timeout``, ``client``, ...).
        """
        options = Options.from_params(optional_params)
        server = _endpoint(
            model,
            arguments.get("api_base"),
            arguments.get("api_key"),
            arguments.get("headers"),
            arguments.get("timeout"),
            arguments.get("client"),
        )
        return cls(
            model=model,
            server=server,
            path=predictions_path(model),
            body=request_body(messages, optional_params, options, stream=stream),
            options=options,
        )

    def response(self, answer: str) -> ModelResponse:
        """Return the complete response of the answer's body."""
        return model_response(answer_text(answer, self.options, self.server), self.model)

    def reader(self) -> PieceReader:
        """Return a reader of the pieces of this call's stream."""
        return PieceReader(self.options, self.server)


def _endpoint(
    model: str | None,
    api_base: str | None,
    api_key: str | None,
    headers: Mapping[str, str] | None,
    timeout: Any,
    client: Any,
) -> Endpoint:
    return Endpoint.from_call(
        _PROVIDER,
        model=model,
        api_base=api_base,
        api_key=api_key,
        headers=headers,
        timeout=timeout,
        client=client,
        base_env=API_BASE_ENV,
        key_env=API_KEY_ENV,
        default_base=DEFAULT_API_BASE,
    )


@contextmanager
def _token_errors(server: Endpoint) -> Iterator[None]:
    """Raise TorchServe's refusals of the token as AuthenticationError, saying how to fix it.

    TorchServe answers a wrong, expired or missing inference key with HTTP 400 and an
    ``InvalidKeyException``; a caller is better served by the 401 class and a hint.
    """
    try:
        yield
    except (AuthenticationError, BadRequestError) as error:
        if not (isinstance(error, AuthenticationError) or _TOKEN_FAILED in error.message):
            raise
        raise AuthenticationError(
            error.message + _KEY_HINT, llm_provider=_PROVIDER, model=server.model
        ) from error


def _chunks(call: _Call) -> _Chunks:
    reader = call.reader()
    # Closed explicitly: a consumer that stops early must not leave the connection open.
    with (
        _token_errors(call.server),
        closing(call.server.stream_text("POST", call.path, json=call.body)) as texts,
    ):
        for text in texts:
            for piece in reader.feed(text):
                yield text_chunk(piece)
    reader.close()
    yield LAST_CHUNK


async def _achunks(call: _Call) -> _AsyncChunks:
    reader = call.reader()
    # Closed explicitly, on this task: left to the garbage collector, the stream would be
    # closed later, maybe after its event loop has ended.
    with _token_errors(call.server):
        texts = call.server.astream_text("POST", call.path, json=call.body)
        async with aclosing(texts):
            async for text in texts:
                for piece in reader.feed(text):
                    yield text_chunk(piece)
    reader.close()
    yield LAST_CHUNK


def _resumed(first: GenericStreamingChunk, rest: _Chunks) -> Iterator[GenericStreamingChunk]:
    """Yield ``first``, then ``rest``; closing this closes ``rest`` (and its connection)."""
    with closing(rest):
        yield first
        yield from rest


async def _aresumed(
    first: GenericStreamingChunk, rest: _AsyncChunks
) -> AsyncIterator[GenericStreamingChunk]:
    try:
        yield first
        async for chunk in rest:
            yield chunk
    finally:
        await rest.aclose()
