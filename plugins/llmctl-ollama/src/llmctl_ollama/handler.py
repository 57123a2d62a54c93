"""``OllamaLLM``: the provider ``ollama``, a handler for Ollama's native HTTP API.

- chat: ``POST /api/chat``, with ``stream: false`` for one JSON answer, or streamed as NDJSON
  lines until the one with ``done: true``;
- embeddings: ``POST /api/embed``;
- health: ``GET /api/tags``, the installed models, which bills nothing.

Every method builds its request once (:mod:`~llmctl_ollama.messages`,
:mod:`~llmctl_ollama.params`) and reads the answer once (:mod:`~llmctl_ollama.answers`,
:mod:`~llmctl_ollama.embeddings`); the sync and async methods differ only in how they send,
through :class:`llmctl.http.Endpoint`, which maps every HTTP and transport failure to
llmctl's errors with Ollama's own message kept.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import aclosing, closing
from typing import Any, Final

from llmctl import CustomLLM, EmbeddingResponse, GenericStreamingChunk, ModelResponse
from llmctl.exceptions import BadGatewayError
from llmctl.http import Endpoint

from llmctl_ollama.answers import ChatStream, is_done, model_response
from llmctl_ollama.embeddings import embed_body, embedding_response, encoding_format
from llmctl_ollama.messages import ollama_messages
from llmctl_ollama.params import CHAT_PARAMS, EMBEDDING_PARAMS, chat_fields
from llmctl_ollama.server import endpoint

__all__ = ["CHAT_PATH", "EMBED_PATH", "TAGS_PATH", "OllamaLLM"]

#: Ollama's chat endpoint.
CHAT_PATH: Final = "/api/chat"
#: Ollama's embedding endpoint.
EMBED_PATH: Final = "/api/embed"
#: Ollama's list of installed models, asked by the health check.
TAGS_PATH: Final = "/api/tags"

_SUPPORTED_PARAMS: Final = sorted({*CHAT_PARAMS, *EMBEDDING_PARAMS})
#: The keywords of a call that say where and how to reach the server.
_CONNECTION: Final = ("api_base", "api_key", "headers", "timeout", "client")


class OllamaLLM(CustomLLM):
    """The ``ollama`` provider; llmctl instantiates it once, without arguments.

    ``model`` is the Ollama model name after ``ollama/`` (``llama3.2``, ``qwen3:8b``,
    ``hf.co/org/repo:tag``). The server is the call's ``api_base``, else
    ``$OLLAMA_API_BASE``, else ``http://localhost:11434``; ``api_key`` (else
    ``$OLLAMA_API_KEY``) is sent as a bearer token, for a server behind an authenticating
    proxy.
    """

    # -- chat ----------------------------------------------------------------------------------

    def completion(
        self,
        *,
        model: str,
        messages: list[Any],
        optional_params: dict[str, Any],
        **kwargs: Any,
    ) -> ModelResponse:
        """Answer a chat at once (``stream: false``)."""
        server = _endpoint(model, kwargs)
        body = _chat_body(model, messages, optional_params, stream=False)
        return model_response(server.send("POST", CHAT_PATH, json=body), server)

    async def acompletion(
        self,
        *,
        model: str,
        messages: list[Any],
        optional_params: dict[str, Any],
        **kwargs: Any,
    ) -> ModelResponse:
        """Answer a chat at once, without blocking the event loop."""
        server = _endpoint(model, kwargs)
        body = _chat_body(model, messages, optional_params, stream=False)
        return model_response(await server.asend("POST", CHAT_PATH, json=body), server)

    def streaming(
        self,
        *,
        model: str,
        messages: list[Any],
        optional_params: dict[str, Any],
        **kwargs: Any,
    ) -> Iterator[GenericStreamingChunk]:
        """Stream a chat as Ollama streams it; the last chunk has the finish reason and usage."""
        # A plain function returning a generator: a request Ollama cannot take fails the call
        # itself, before any chunk.
        server = _endpoint(model, kwargs)
        body = _chat_body(model, messages, optional_params, stream=True)
        return _stream(server, body)

    async def astreaming(
        self,
        *,
        model: str,
        messages: list[Any],
        optional_params: dict[str, Any],
        **kwargs: Any,
    ) -> AsyncIterator[GenericStreamingChunk]:
        """Stream a chat without blocking the event loop; see :meth:`streaming`."""
        server = _endpoint(model, kwargs)
        body = _chat_body(model, messages, optional_params, stream=True)
        stream = ChatStream(server)
        # aclosing: a line that raises (Ollama's {"error": ...}) must close the response here,
        # in this task; left to the garbage collector, httpx would close it in another.
        lines = server.astream_ndjson("POST", CHAT_PATH, json=body, until=is_done)
        async with aclosing(lines):
            async for line in lines:
                for chunk in stream.chunks(line):
                    yield chunk

    # -- embeddings ----------------------------------------------------------------------------

    def embedding(
        self,
        *,
        model: str,
        input: Any,
        optional_params: dict[str, Any],
        **kwargs: Any,
    ) -> EmbeddingResponse:
        """Embed a string or a list of strings."""
        server = _endpoint(model, kwargs)
        body = embed_body(model, input, optional_params)
        encoding = encoding_format(optional_params)
        data = server.send("POST", EMBED_PATH, json=body)
        return embedding_response(data, server, inputs=_count(input), encoding=encoding)

    async def aembedding(
        self,
        *,
        model: str,
        input: Any,
        optional_params: dict[str, Any],
        **kwargs: Any,
    ) -> EmbeddingResponse:
        """Embed a string or a list of strings, without blocking the event loop."""
        server = _endpoint(model, kwargs)
        body = embed_body(model, input, optional_params)
        encoding = encoding_format(optional_params)
        data = await server.asend("POST", EMBED_PATH, json=body)
        return embedding_response(data, server, inputs=_count(input), encoding=encoding)

    # -- what the provider declares ------------------------------------------------------------

    def get_supported_openai_params(self, model: str) -> list[str]:
        """Return the OpenAI parameters honoured: the chat ones and the embedding ones.

        Any Ollama model name may be a chat or an embedding model, so both lists apply to
        every model; llmctl checks a call against its operation's OpenAI parameters only.
        """
        return list(_SUPPORTED_PARAMS)

    def health_check(
        self, api_base: str | None = None, api_key: str | None = None, timeout: float | None = None
    ) -> dict[str, Any]:
        """List the server's installed models (``GET /api/tags``), which bills nothing.

        :returns: ``{"status": "ok", "models": [names]}``.
        :raises LLMCtlError: the server is down, refuses the key, or is not an Ollama server.
        """
        server = endpoint(api_base=api_base, api_key=api_key, timeout=timeout)
        answer = server.send("GET", TAGS_PATH)
        models = answer.get("models") if isinstance(answer, Mapping) else None
        if not isinstance(models, list):
            raise BadGatewayError(
                f"{server.url(TAGS_PATH)} answered without a 'models' list, so it is not an "
                f"Ollama server: {answer!r:.200}; point api_base (or OLLAMA_API_BASE) at "
                "Ollama's root, such as http://localhost:11434",
                llm_provider=server.provider,
            )
        names = [m.get("name") or m.get("model") for m in models if isinstance(m, Mapping)]
        return {"status": "ok", "models": names}


# -- the shared paths of the sync and async methods -------------------------------------------


def _endpoint(model: str, call: Mapping[str, Any]) -> Endpoint:
    """Return the endpoint of a call from its keywords (api_base, api_key, headers, ...)."""
    return endpoint(model=model, **{name: call.get(name) for name in _CONNECTION})


def _chat_body(
    model: str, messages: list[Any], optional_params: Mapping[str, Any], *, stream: bool
) -> dict[str, Any]:
    """Return the /api/chat body of one call."""
    return {
        "model": model,
        "messages": ollama_messages(messages),
        "stream": stream,
        **chat_fields(optional_params),
    }


def _stream(server: Endpoint, body: Mapping[str, Any]) -> Iterator[GenericStreamingChunk]:
    stream = ChatStream(server)
    # closing: a line that raises gives the connection back at once, not when collected.
    lines = server.stream_ndjson("POST", CHAT_PATH, json=body, until=is_done)
    with closing(lines):
        for line in lines:
            yield from stream.chunks(line)


def _count(input: Any) -> int:
    return 1 if isinstance(input, str) else len(input)
