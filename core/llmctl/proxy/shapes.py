"""OpenAI answer shapes the core does not produce itself.

The legacy ``/completions`` answer (``text_completion`` objects) built from a chat answer,
and embeddings as base64, which the ``openai`` SDK asks for by default.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

from llmctl.types.responses import EmbeddingResponse, ModelResponse, ModelResponseStream

__all__ = ["embeddings_json", "text_chunk_event", "text_completion_json"]


def _text_id(chat_id: str) -> str:
    return "cmpl-" + chat_id.removeprefix("chatcmpl-")


def text_completion_json(answers: list[ModelResponse], prompts: list[str], echo: bool) -> bytes:
    """Return the ``text_completion`` object for the chat answers to ``prompts``, in order.

    Choice ``i * n + j`` is the ``j``-th choice for prompt ``i``, as OpenAI numbers them.
    """
    first = answers[0]
    choices: list[dict[str, Any]] = []
    prompt_tokens = completion_tokens = 0
    for answer, prompt in zip(answers, prompts, strict=True):
        for choice in answer.choices:
            text = choice.message.content or ""
            choices.append(
                {
                    "text": prompt + text if echo else text,
                    "index": len(choices),
                    "logprobs": None,
                    "finish_reason": choice.finish_reason,
                }
            )
        prompt_tokens += answer.usage.prompt_tokens
        completion_tokens += answer.usage.completion_tokens
    body = {
        "id": _text_id(first.id),
        "object": "text_completion",
        "created": first.created,
        "model": first.model,
        "choices": choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
    return json.dumps(body).encode()


def text_chunk_event(chunk: ModelResponseStream, *, include_usage: bool = False) -> bytes:
    """Return a chat chunk as a ``text_completion`` SSE event (with usage if asked for)."""
    body: dict[str, Any] = {
        "id": _text_id(chunk.id),
        "object": "text_completion",
        "created": chunk.created,
        "model": chunk.model,
        "choices": [
            {
                "text": choice.delta.content or "",
                "index": choice.index,
                "logprobs": None,
                "finish_reason": choice.finish_reason,
            }
            for choice in chunk.choices
        ],
    }
    if include_usage and chunk.usage is not None:
        body["usage"] = chunk.usage.model_dump()
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def embeddings_json(response: EmbeddingResponse, encoding_format: str) -> bytes:
    """Serialise an embedding answer, its vectors as base64 float32 when asked for.

    A vector the handler already gave as a string is passed on as it is.
    """
    if encoding_format == "base64":
        for item in response.data:
            vector = item.embedding
            if isinstance(vector, list):
                packed = struct.pack(f"<{len(vector)}f", *vector)
                item.embedding = base64.b64encode(packed).decode("ascii")
    return response.__pydantic_serializer__.to_json(response)
