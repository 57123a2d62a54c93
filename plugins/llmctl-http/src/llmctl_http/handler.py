"""``HttpLLM``: the provider ``http``, any in-house REST API described in config.yaml.

A model's ``litellm_params`` carry an ``http`` key, the API description: the request's path
and body templates, where the text, finish reason and usage are in the answer, how a stream
is framed. The handler builds each request from it (:mod:`llmctl_http.call`), sends it
through :class:`llmctl.http.Endpoint` (pooled clients, errors mapped to llmctl's classes with
the backend's message kept), and reads the answer with its paths
(:mod:`llmctl_http.answers`, :mod:`llmctl_http.streams`). Each sync method and its async twin
build the same request and read the same way; only the send differs.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Final

from llmctl import CustomLLM, EmbeddingResponse, GenericStreamingChunk, ModelResponse
from llmctl.exceptions import UnsupportedOperationError

from llmctl_http.answers import chat_response, embedding_response
from llmctl_http.call import Call, chat_call, embedding_call, endpoint
from llmctl_http.description import KEY, load_description
from llmctl_http.params import SUPPORTED_PARAMS
from llmctl_http.streams import (
    StreamState,
    astream_chunks,
    joined_response,
    response_chunks,
    stream_chunks,
)

__all__ = ["HttpLLM"]

#: The most of a health check's answer kept in its report.
_ANSWER_LIMIT: Final = 500


class HttpLLM(CustomLLM):
    """Any REST API, described declaratively; llmctl instantiates it once.

    ``model`` is the part after ``http/`` and fills ``{model}`` in the templates. The server's
    address is the call's ``api_base`` (else ``$LLMCTL_HTTP_API_BASE``), its key the call's
    ``api_key`` (else ``$LLMCTL_HTTP_API_KEY``), sent as the description's ``auth`` says.
    """

    # -- chat ----------------------------------------------------------------------------------

    def completion(
        self,
        *,
        model: str,
        messages: list[Any],
        optional_params: Mapping[str, Any],
        litellm_params: Mapping[str, Any] | None = None,
        **connection: Any,
    ) -> ModelResponse:
        """Answer at once; an API that only streams has its stream joined."""
        call = chat_call(
            model=model,
            messages=messages,
            optional_params=optional_params,
            litellm_params=litellm_params,
            streaming=False,
            **_connection(connection),
        )
        if call.api.response is None:
            return joined_response(list(stream_chunks(_state(call), *_sent(call))), model)
        return _complete(call)

    async def acompletion(
        self,
        *,
        model: str,
        messages: list[Any],
        optional_params: Mapping[str, Any],
        litellm_params: Mapping[str, Any] | None = None,
        **connection: Any,
    ) -> ModelResponse:
        """Answer at once without blocking the event loop; see :meth:`completion`."""
        call = chat_call(
            model=model,
            messages=messages,
            optional_params=optional_params,
            litellm_params=litellm_params,
            streaming=False,
            **_connection(connection),
        )
        if call.api.response is None:
            chunks = [chunk async for chunk in astream_chunks(_state(call), *_sent(call))]
            return joined_response(chunks, model)
        return await _acomplete(call)

    def streaming(
        self,
        *,
        model: str,
        messages: list[Any],
        optional_params: Mapping[str, Any],
        litellm_params: Mapping[str, Any] | None = None,
        **connection: Any,
    ) -> Iterator[GenericStreamingChunk]:
        """Stream the answer in the description's framing (``none``: one chunk)."""
        # A plain method returning an iterator: a bad description or parameter fails the
        # call itself, before any chunk.
        call = chat_call(
            model=model,
            messages=messages,
            optional_params=optional_params,
            litellm_params=litellm_params,
            streaming=True,
            **_connection(connection),
        )
        if call.api.framing == "none":
            return iter(response_chunks(_complete(call)))
        return stream_chunks(_state(call), *_sent(call))

    async def astreaming(
        self,
        *,
        model: str,
        messages: list[Any],
        optional_params: Mapping[str, Any],
        litellm_params: Mapping[str, Any] | None = None,
        **connection: Any,
    ) -> AsyncIterator[GenericStreamingChunk]:
        """Stream the answer without blocking the event loop; see :meth:`streaming`."""
        call = chat_call(
            model=model,
            messages=messages,
            optional_params=optional_params,
            litellm_params=litellm_params,
            streaming=True,
            **_connection(connection),
        )
        if call.api.framing == "none":
            for chunk in response_chunks(await _acomplete(call)):
                yield chunk
            return
        async for chunk in astream_chunks(_state(call), *_sent(call)):
            yield chunk

    # -- embeddings ----------------------------------------------------------------------------

    def embedding(
        self,
        *,
        model: str,
        input: str | list[Any],
        optional_params: Mapping[str, Any],
        litellm_params: Mapping[str, Any] | None = None,
        **connection: Any,
    ) -> EmbeddingResponse:
        """Embed ``input`` with the description's ``embedding`` request."""
        call, count = embedding_call(
            model=model,
            input=input,
            optional_params=optional_params,
            litellm_params=litellm_params,
            **_connection(connection),
        )
        return _embeddings(call, call.send(), count)

    async def aembedding(
        self,
        *,
        model: str,
        input: str | list[Any],
        optional_params: Mapping[str, Any],
        litellm_params: Mapping[str, Any] | None = None,
        **connection: Any,
    ) -> EmbeddingResponse:
        """Embed ``input`` without blocking the event loop; see :meth:`embedding`."""
        call, count = embedding_call(
            model=model,
            input=input,
            optional_params=optional_params,
            litellm_params=litellm_params,
            **_connection(connection),
        )
        return _embeddings(call, await call.asend(), count)

    # -- the provider --------------------------------------------------------------------------

    def get_supported_openai_params(self, model: str) -> list[str]:
        """Return every OpenAI parameter a description may send.

        llmctl asks with the model name only, so this cannot see the model's description;
        a call then refuses (:class:`~llmctl.exceptions.UnsupportedParamsError`) a parameter
        its description has no placeholder for.
        """
        return sorted(SUPPORTED_PARAMS)

    def health_check(
        self,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        litellm_params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Send the description's ``health`` request.

        :param litellm_params: the model's config, holding its ``http`` description (the
            proxy's ``/health`` passes each model's).
        :returns: ``{"status": "ok", "url": ..., "answer": ...}``.
        :raises UnsupportedOperationError: there is no description, or it has no ``health``
            request (llmctl reports the check ``unchecked``; nothing is asked of the backend).
        :raises LLMCtlError: the backend is down or answered an error status.
        """
        raw = (litellm_params or {}).get(KEY)
        api = load_description(raw) if raw is not None else None
        if api is None:
            raise UnsupportedOperationError(
                "no API description to check: give the model's http description (the proxy's "
                "/health passes each model's config)",
                llm_provider="http",
            )
        if api.health is None:
            raise UnsupportedOperationError(
                "the API description has no health request; add health: {path: ..., method: GET}",
                llm_provider="http",
            )
        server = endpoint(
            api, model=None, api_base=api_base, api_key=api_key, headers=None, timeout=timeout
        )
        method, path = api.health.method, api.health.path.source
        text = "".join(server.stream_text(method, path))
        try:
            answer: Any = json.loads(text) if len(text) <= _ANSWER_LIMIT else None
        except ValueError:
            answer = None
        if answer is None:
            answer = text if len(text) <= _ANSWER_LIMIT else text[:_ANSWER_LIMIT] + "..."
        return {"status": "ok", "url": server.url(path), "answer": answer}


def _connection(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """Pick the connection settings out of the other keyword arguments llmctl passes."""
    return {
        "api_base": kwargs.get("api_base"),
        "api_key": kwargs.get("api_key"),
        "headers": kwargs.get("headers"),
        "timeout": kwargs.get("timeout"),
        "client": kwargs.get("client"),
    }


def _sent(call: Call) -> tuple[str, str, Any]:
    return call.method, call.path, call.body


def _state(call: Call) -> StreamState:
    assert call.api.stream is not None  # a framing other than none has a stream section
    return StreamState(call.api.stream, call.reader, call.endpoint)


def _complete(call: Call) -> ModelResponse:
    spec = call.api.response
    assert spec is not None  # the caller checked
    answer = call.text() if spec.format == "text" else call.send()
    return chat_response(answer, spec, call.reader)


async def _acomplete(call: Call) -> ModelResponse:
    spec = call.api.response
    assert spec is not None  # the caller checked
    answer = await (call.atext() if spec.format == "text" else call.asend())
    return chat_response(answer, spec, call.reader)


def _embeddings(call: Call, answer: Any, count: int) -> EmbeddingResponse:
    spec = call.api.embedding
    assert spec is not None  # embedding_call checked
    return embedding_response(answer, spec.vectors, spec.usage, count, call.reader)
