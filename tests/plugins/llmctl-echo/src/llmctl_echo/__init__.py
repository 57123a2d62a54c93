"""A provider that echoes the last message back, for packaging tests."""

from __future__ import annotations

from typing import Any

from llmctl import CustomLLM, ModelResponse


class EchoLLM(CustomLLM):
    """Answers with the content of the last message."""

    def completion(self, *, messages: list[Any], **kwargs: Any) -> ModelResponse:
        """Echo the last message."""
        return ModelResponse(choices=[{"message": {"content": messages[-1]["content"]}}])


handler = EchoLLM()
