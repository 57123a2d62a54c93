"""``OpenAICompatibleLLM``: the providers ``openai_compatible`` and ``hosted_vllm``.

One handler for any server that speaks OpenAI's HTTP API (vLLM, SGLang, llama.cpp's
llama-server, LM Studio, TGI's Messages API, another llmctl or LiteLLM proxy):

- chat: ``POST /v1/chat/completions``, answered at once or streamed as server-sent events;
- embeddings: ``POST /v1/embeddings``; images: ``POST /v1/images/generations``;
- health check: ``GET /v1/models``, which bills nothing.

Each sync method and its async twin build the same request and read the answer the same
way; only the send differs. Every failure is an :mod:`llmctl.exceptions` error keeping the
server's message (:mod:`llmctl.http` maps statuses and transport failures).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator, Mapping
from contextlib import aclosing, closing
from typing import Any, Final, cast

from llmctl import (
    CustomLLM,
    EmbeddingResponse,
    GenericStreamingChunk,
    ImageResponse,
    ModelResponse,
    ModelResponseStream,
)
from llmctl.http import Endpoint

from llmctl_openai_compatible.answers import (
    embedding_response,
    image_response,
    model_ids,
    model_response,
)
from llmctl_openai_compatible.bodies import chat_body, embedding_body, image_body, stream_body
from llmctl_openai_compatible.endpoint import (
    PROVIDER_NAMES,
    endpoint,
)
from llmctl_openai_compatible.stream import plain_chunk, stream_chunks

__all__ = ["OpenAICompatibleLLM"]

_CHAT: Final = "chat/completions"


class OpenAICompatibleLLM(CustomLLM):
    """A server that speaks OpenAI's HTTP API; llmctl instantiates it once per provider name.

    ``model`` is sent as the body's ``model``: ``openai_compatible/meta-llama/Llama-3.1-8B``
    asks the server for ``meta-llama/Llama-3.1-8B``. The server's address is the call's
    ``api_base`` (with or without its ``/v1``), else ``$<NAME>_API_BASE`` of the name the
    call came by (``OPENAI_COMPATIBLE_API_BASE``, ``HOSTED_VLLM_API_BASE``); the key likewise.
    """

    # -- chat ----------------------------------------------------------------------------------

    def completion(
        self,
        *,
        model: str,
        messages: list[Any],
        optional_params: Mapping[str, Any],
        api_base: str | None = None,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = None,
        litellm_params: Mapping[str, Any] | None = None,
        client: Any = None,
        **kwargs: Any,
    ) -> ModelResponse:
        """Answer a chat completion: ``POST /v1/chat/completions``."""
        server = _called_endpoint(
            model, litellm_params, api_base, api_key, headers, timeout, client
        )
        data = server.send("POST", _CHAT, json=chat_body(model, messages, optional_params))
        return model_response(data, server)

    async def acompletion(
        self,
        *,
        model: str,
        messages: list[Any],
        optional_params: Mapping[str, Any],
        api_base: str | None = None,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = None,
        litellm_params: Mapping[str, Any] | None = None,
        client: Any = None,
        **kwargs: Any,
    ) -> ModelResponse:
        """Answer a chat completion without blocking the event loop."""
        server = _called_endpoint(
            model, litellm_params, api_base, api_key, headers, timeout, client
        )
        data = await server.asend("POST", _CHAT, json=chat_body(model, messages, optional_params))
        return model_response(data, server)

    def streaming(
        self,
        *,
        model: str,
        messages: list[Any],
        optional_params: Mapping[str, Any],
        api_base: str | None = None,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = None,
        litellm_params: Mapping[str, Any] | None = None,
        client: Any = None,
        **kwargs: Any,
    ) -> Iterator[GenericStreamingChunk]:
        """Stream a chat completion; the server's first chunk has arrived when it returns.

        Waiting for it makes an error status fail the call itself, as OpenAI's client does,
        rather than the first read of the stream.
        """
        server = _called_endpoint(
            model, litellm_params, api_base, api_key, headers, timeout, client
        )
        chunks = _chunks(server, stream_body(model, messages, optional_params))
        next(chunks)  # the first chunk has arrived
        return cast("Iterator[GenericStreamingChunk]", chunks)

    # A coroutine giving the stream (llmctl awaits it), so that an error status fails the
    # call itself here too.
    async def astreaming(
        self,
        *,
        model: str,
        messages: list[Any],
        optional_params: Mapping[str, Any],
        api_base: str | None = None,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = None,
        litellm_params: Mapping[str, Any] | None = None,
        client: Any = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenericStreamingChunk]:
        """Stream a chat completion asynchronously; see :meth:`streaming`."""
        server = _called_endpoint(
            model, litellm_params, api_base, api_key, headers, timeout, client
        )
        chunks = _achunks(server, stream_body(model, messages, optional_params))
        await anext(chunks)  # the first chunk has arrived
        return cast("AsyncIterator[GenericStreamingChunk]", chunks)

    # -- embeddings ----------------------------------------------------------------------------

    def embedding(
        self,
        *,
        model: str,
        input: str | list[Any],
        optional_params: Mapping[str, Any],
        api_base: str | None = None,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = None,
        litellm_params: Mapping[str, Any] | None = None,
        client: Any = None,
        **kwargs: Any,
    ) -> EmbeddingResponse:
        """Embed ``input``: ``POST /v1/embeddings``."""
        server = _called_endpoint(
            model, litellm_params, api_base, api_key, headers, timeout, client
        )
        data = server.send("POST", "embeddings", json=embedding_body(model, input, optional_params))
        return embedding_response(data, server)

    async def aembedding(
        self,
        *,
        model: str,
        input: str | list[Any],
        optional_params: Mapping[str, Any],
        api_base: str | None = None,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: Any = None,
        litellm_params: Mapping[str, Any] | None = None,
        client: Any = None,
        **kwargs: Any,
    ) -> EmbeddingResponse:
        """Embed ``input`` without blocking the event loop."""
        server = _called_endpoint(
            model, litellm_params, api_base, api_key, headers, timeout, client
        )
        body = embedding_body(model, input, optional_params)
        return embedding_response(await server.asend("POST", "embeddings", json=body), server)

    # -- images --------------------------------------------------------------------------------

    def image_generation(
        self,
        *,
        model: str,
        prompt: str,
        optional_params: Mapping[str, Any],
        litellm_params: Mapping[str, Any] | None = None,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout: Any = None,
        client: Any = None,
        **kwargs: Any,
    ) -> ImageResponse:
        """Generate images: ``POST /v1/images/generations``."""
        server = _called_endpoint(model, litellm_params, api_base, api_key, None, timeout, client)
        body = image_body(model, prompt, optional_params)
        return image_response(server.send("POST", "images/generations", json=body), server)

    async def aimage_generation(
        self,
        *,
        model: str,
        prompt: str,
        optional_params: Mapping[str, Any],
        litellm_params: Mapping[str, Any] | None = None,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout: Any = None,
        client: Any = None,
        **kwargs: Any,
    ) -> ImageResponse:
        """Generate images without blocking the event loop."""
        server = _called_endpoint(model, litellm_params, api_base, api_key, None, timeout, client)
        body = image_body(model, prompt, optional_params)
        return image_response(await server.asend("POST", "images/generations", json=body), server)

    # -- what the provider declares ------------------------------------------------------------

    def get_supported_openai_params(self, model: str) -> list[str] | None:
        """Return None: every OpenAI parameter goes to the server, which decides.

        It is OpenAI's API, so llmctl refuses none; what a server does not support, it
        refuses itself (a 400 that reaches the caller as ``BadRequestError``) or ignores.
        """
        return None

    def health_check(
        self,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        custom_llm_provider: str | None = None,
    ) -> dict[str, Any]:
        """List the server's models (``GET /v1/models``), which bills nothing.

        :param custom_llm_provider: the name it is checked under, for its variables.
        :returns: ``{"status": "ok", "models": [ids]}``.
        :raises LLMCtlError: the server is down, refuses the key, or is no OpenAI server.
        """
        provider = custom_llm_provider or PROVIDER_NAMES[0]
        server = endpoint(provider, api_base=api_base, api_key=api_key, timeout=timeout)
        return {"status": "ok", "models": model_ids(server.send("GET", "models"), server)}


# -- the shared paths of the sync and async methods -------------------------------------------


def _called_endpoint(
    model: str,
    litellm_params: Mapping[str, Any] | None,
    api_base: str | None,
    api_key: str | None,
    headers: Mapping[str, str] | None,
    timeout: Any,
    client: Any,
) -> Endpoint:
    """Return the endpoint of a call to the name it came by (``openai_compatible``, ...)."""
    provider = (litellm_params or {}).get("custom_llm_provider") or PROVIDER_NAMES[0]
    return endpoint(
        provider,
        model=model,
        api_base=api_base,
        api_key=api_key,
        headers=headers,
        timeout=timeout,
        client=client,
    )


#: What the stream generators yield: a chunk in OpenAI's shape as a ``ModelResponseStream``
#: as it came (see :func:`plain_chunk`), any other event as ``GenericStreamingChunk`` dicts;
#: llmctl takes both.
_Chunk = GenericStreamingChunk | ModelResponseStream


def _chunks(server: Endpoint, body: dict[str, Any]) -> Generator[_Chunk | None, None, None]:
    """Yield ``None`` once the first chunk has arrived (or the stream ended), then the chunks.

    The caller takes that ``None`` before it returns the stream, so that an error status, or
    an error event before the first chunk, fails the call itself. One generator, rather than
    a second one wrapping this, saves each chunk a generator step (#6).
    """
    parse = server.parse_json
    # Closed explicitly: an error event raised here must not leave the connection open.
    with closing(server.stream_sse("POST", _CHAT, json=body)) as events:
        first: list[_Chunk] = []
        for event in events:
            if event.data and (first := _event_chunks(event.data, server)):
                break
        yield None
        yield from first
        for event in events:
            if event.data:
                if chunk := plain_chunk(event.data):
                    yield chunk
                else:
                    yield from stream_chunks(parse(event.data), server)


async def _achunks(server: Endpoint, body: dict[str, Any]) -> AsyncGenerator[_Chunk | None, None]:
    """Yield ``None`` once the first chunk has arrived, then the chunks; see :func:`_chunks`."""
    parse = server.parse_json
    # Closed explicitly, on this task: left to the garbage collector, the stream would be
    # closed later, maybe after its event loop has ended.
    async with aclosing(server.astream_sse("POST", _CHAT, json=body)) as events:
        first: list[_Chunk] = []
        async for event in events:
            if event.data and (first := _event_chunks(event.data, server)):
                break
        yield None
        for item in first:
            yield item
        async for event in events:
            if event.data:
                if chunk := plain_chunk(event.data):
                    yield chunk
                else:
                    for generic in stream_chunks(parse(event.data), server):
                        yield generic


def _event_chunks(data: str, server: Endpoint) -> list[_Chunk]:
    if chunk := plain_chunk(data):
        return [chunk]
    return list(stream_chunks(server.parse_json(data), server))
