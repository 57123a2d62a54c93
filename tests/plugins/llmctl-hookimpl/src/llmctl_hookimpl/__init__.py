"""A provider written as pluggy hook implementations, each naming only the arguments it uses.

Answers read ``hooky:<method>:<model>:<text>``; the stream yields one chunk per word.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import llmctl


@llmctl.hookimpl
def completion(model: str, messages: list[Any]) -> dict[str, Any]:
    """Answer with the model name and the last message."""
    content = f"hooky:completion:{model}:{messages[-1]['content']}"
    return {"choices": [{"message": {"role": "assistant", "content": content}}]}


@llmctl.hookimpl
def streaming(messages: list[Any]) -> Iterator[dict[str, Any]]:
    """Stream the last message word by word."""
    words = f"hooky:streaming:{messages[-1]['content']}".split(" ")
    for i, word in enumerate(words):
        last = i == len(words) - 1
        yield {
            "text": word if last else f"{word} ",
            "tool_use": None,
            "is_finished": last,
            "finish_reason": "stop" if last else "",
            "usage": None,
        }
