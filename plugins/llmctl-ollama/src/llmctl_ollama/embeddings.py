"""Embeddings through Ollama's /api/embed: the request body and the answer as OpenAI's.

Ollama takes ``input`` as a string or a list of strings (OpenAI's token-id lists are
refused) and answers ``{"embeddings": [[...], ...], "prompt_eval_count": n}`` in the order of
the inputs; ``dimensions`` is sent as it is. Ollama always answers floats, so
``encoding_format="base64"`` is applied here: little-endian float32, as OpenAI encodes.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping, Sequence
from typing import Any, Final

from llmctl import Embedding, EmbeddingResponse, Usage
from llmctl.exceptions import BadGatewayError, BadRequestError
from llmctl.http import Endpoint

from llmctl_ollama.answers import checked
from llmctl_ollama.params import embedding_fields

__all__ = ["ENCODINGS", "embed_body", "embedding_response", "encoding_format"]

#: The ``encoding_format`` values served.
ENCODINGS: Final = ("float", "base64")


def embed_body(model: str, input: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    """Return the /api/embed body of one call.

    :raises BadRequestError: ``input`` is not a string or a list of strings.
    """
    texts = [input] if isinstance(input, str) else input
    if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
        raise BadRequestError(
            "input must be a string or a list of strings for ollama (token-id lists are not "
            f"supported), got {input!r:.80}",
            param="input",
        )
    return {"model": model, "input": input, **embedding_fields(params)}


def encoding_format(params: Mapping[str, Any]) -> str:
    """Return the call's ``encoding_format`` (``float`` by default).

    :raises BadRequestError: it is neither ``float`` nor ``base64``.
    """
    value = params.get("encoding_format", "float")
    if value not in ENCODINGS:
        raise BadRequestError(
            f"encoding_format must be 'float' or 'base64', got {value!r}",
            param="encoding_format",
        )
    return str(value)


def embedding_response(
    data: Any, server: Endpoint, *, inputs: int, encoding: str
) -> EmbeddingResponse:
    """Return the ``EmbeddingResponse`` of an /api/embed answer.

    :param inputs: how many texts were sent: the answer must hold one vector for each.
    :raises LLMCtlError: the answer is an error, or does not hold one vector per input.
    """
    answer = checked(data, server, "its answer")
    vectors = answer.get("embeddings")
    if not isinstance(vectors, list) or len(vectors) != inputs:
        got = f"{len(vectors)} vectors" if isinstance(vectors, list) else repr(vectors)[:80]
        raise BadGatewayError(
            f"ollama at {server.base_url} answered POST /api/embed with {got} for {inputs} "
            "inputs; expected one vector in 'embeddings' per input",
            llm_provider=server.provider,
            model=server.model,
        )
    data_ = [
        Embedding(index=n, embedding=_encoded(vector) if encoding == "base64" else vector)
        for n, vector in enumerate(vectors)
    ]
    tokens = int(answer.get("prompt_eval_count") or 0)
    return EmbeddingResponse(
        model=answer.get("model") or server.model,
        data=data_,
        usage=Usage(prompt_tokens=tokens, total_tokens=tokens),
    )


def _encoded(vector: Sequence[float]) -> str:
    """Encode a vector as OpenAI's ``encoding_format="base64"`` does: little-endian float32."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
