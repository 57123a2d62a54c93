"""The example provider's "backend": answers computed in process, with no network.

A real plugin calls its server here (with ``httpx``, say) and the handler turns the server's
answers into llmctl's types. Keeping the two apart is what makes the handler easy to read:
:mod:`llmctl_example.handler` only translates, this module only computes.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
import zlib
from collections.abc import Sequence
from typing import Any

__all__ = [
    "color_for",
    "count_tokens",
    "embed",
    "last_user_text",
    "message_text",
    "png",
    "reply",
    "vector_as_base64",
]


def message_text(message: Any) -> str:
    """Return the text of a chat message: its string content, or its text parts joined."""
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and part.get("type") == "text" and "text" in part
        )
    return ""


def last_user_text(messages: Sequence[Any]) -> str | None:
    """Return the text of the last user message, or None when there is none."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return message_text(message)
    return None


def count_tokens(text: str) -> int:
    """Count tokens the simple way: whitespace-separated words."""
    return len(text.split())


def reply(model: str, text: str) -> str:
    """Answer ``text`` as ``model`` does: ``echo`` repeats it, ``reverse`` reverses it."""
    return text[::-1] if model == "reverse" else text


def embed(text: str, dimensions: int) -> list[float]:
    """Return a deterministic unit vector of ``dimensions`` floats derived from ``text``."""
    raw: list[float] = []
    counter = 0
    while len(raw) < dimensions:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        # Each two bytes of the digest make one component in [-1, 1).
        raw.extend(int.from_bytes(digest[i : i + 2], "big") / 32768 - 1 for i in range(0, 32, 2))
        counter += 1
    vector = raw[:dimensions]
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def vector_as_base64(vector: Sequence[float]) -> str:
    """Encode a vector as OpenAI's ``encoding_format="base64"`` does: little-endian float32."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def color_for(prompt: str, index: int) -> tuple[int, int, int]:
    """Return the RGB colour of image ``index`` for ``prompt``: the same prompt, the same one."""
    digest = hashlib.sha256(f"{index}:{prompt}".encode()).digest()
    return digest[0], digest[1], digest[2]


def png(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    """Return a valid PNG file of one colour (8-bit RGB, no interlace)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(color) * width  # filter type 0, then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height, 9))
        + chunk(b"IEND", b"")
    )
