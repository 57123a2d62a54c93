"""A second distribution claiming the provider name ``echo``; it answers ``twin:<text>``.

Its entry point names the class, not an instance, so that form of discovery is exercised too.
"""

from __future__ import annotations

from typing import Any

from llmctl import CustomLLM, ModelResponse


class TwinLLM(CustomLLM):
    """Answers ``twin:`` and the content of the last message."""

    def completion(self, *, messages: list[Any], **kwargs: Any) -> ModelResponse:
        """Echo the last message, marked as the twin's."""
        return ModelResponse(choices=[{"message": {"content": f"twin:{messages[-1]['content']}"}}])
