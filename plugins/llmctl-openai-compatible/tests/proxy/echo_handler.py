"""The handler behind the test proxy: an echo, a stream that fails midway, and embeddings.

- ``echo`` answers the last user message, one word per streamed chunk;
- ``flaky`` streams its first word, then fails with 429 (the proxy then sends an error event);
- ``params`` answers the names of the parameters it received, as JSON;
- ``embed`` embeds each input as ``[len(text), 1.0]``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from llmctl import (
    CustomLLM,
    CustomLLMError,
    EmbeddingResponse,
    GenericStreamingChunk,
    ModelResponse,
)


def _answer(model: str, messages: list[Any], optional_params: dict[str, Any]) -> str:
    if model == "params":
        return json.dumps(sorted(k for k in optional_params if k != "stream"))
    return next(m["content"] for m in reversed(messages) if m["role"] == "user")


def _usage(messages: list[Any], text: str) -> dict[str, int]:
    prompt = sum(len(str(m["content"]).split()) for m in messages)
    return {"prompt_tokens": prompt, "completion_tokens": len(text.split())}


class Echo(CustomLLM):
    def completion(
        self, *, model: str, messages: list[Any], optional_params: dict[str, Any], **kwargs: Any
    ) -> ModelResponse:
        text = _answer(model, messages, optional_params)
        return ModelResponse(
            model=model,
            choices=[{"message": {"content": text}, "finish_reason": "stop"}],
            usage=_usage(messages, text),
        )

    def streaming(
        self, *, model: str, messages: list[Any], optional_params: dict[str, Any], **kwargs: Any
    ) -> Iterator[GenericStreamingChunk]:
        text = _answer(model, messages, optional_params)
        words = text.split(" ")
        for n, word in enumerate(words):
            if model == "flaky" and n == 1:
                raise CustomLLMError(429, "the echo ran out of quota mid-stream")
            last = n == len(words) - 1
            yield {
                "text": word if n == 0 else " " + word,
                "tool_use": None,
                "is_finished": last,
                "finish_reason": "stop" if last else "",
                "usage": _usage(messages, text) if last else None,  # type: ignore[typeddict-item]
            }

    def embedding(self, *, model: str, input: Any, **kwargs: Any) -> EmbeddingResponse:
        texts = [input] if isinstance(input, str) else input
        data = [{"index": i, "embedding": [float(len(t)), 1.0]} for i, t in enumerate(texts)]
        tokens = sum(len(t.split()) for t in texts)
        return EmbeddingResponse(
            model=model, data=data, usage={"prompt_tokens": tokens, "total_tokens": tokens}
        )


handler = Echo()
