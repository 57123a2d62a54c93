"""The benchmark handler: a ``CustomLLM`` that answers from prebuilt objects.

The same code serves llmctl and LiteLLM: :func:`load_library` imports ``CustomLLM``,
``ModelResponse``, ``GenericStreamingChunk``, ``completion`` and ``acompletion`` from the named
package (their import paths are the same in both), and :func:`make_handler` subclasses that
package's ``CustomLLM``. The pseudo-library ``floor`` imports nothing: the handler derives from
``object`` and its response is a plain ``dict``, so timing its methods directly gives the cost of
the bare handler with no library at all.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Final

from benchmarks.core.config import FLOOR

#: Provider name registered in ``custom_provider_map``; models are addressed as ``bench/<name>``.
PROVIDER: Final = "bench"
MODEL: Final = f"{PROVIDER}/m"
MESSAGES: Final = [{"role": "user", "content": "Say something."}]
#: Content of the prebuilt non-streaming response.
RESPONSE_TEXT: Final = "Hello from the benchmark handler."
PROMPT_TOKENS: Final = 5


@dataclass(frozen=True)
class LibraryAPI:
    """The parts of a LiteLLM-compatible library the benchmark uses."""

    name: str
    #: The imported top-level package; ``None`` for the floor.
    module: ModuleType | None
    custom_llm_base: type
    model_response: Callable[..., Any]
    streaming_chunk: Callable[..., Any]
    completion: Callable[..., Any] | None
    acompletion: Callable[..., Awaitable[Any]] | None

    @property
    def version(self) -> str:
        """The installed distribution version, or ``"-"`` for the floor."""
        if self.module is None:
            return "-"
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(self.name)
        except PackageNotFoundError:
            return str(getattr(self.module, "__version__", "unknown"))


def load_library(name: str) -> LibraryAPI:
    """Import library ``name`` (``"llmctl"`` or ``"litellm"``), or nothing for ``"floor"``."""
    if name == FLOOR:
        return LibraryAPI(FLOOR, None, object, dict, dict, None, None)
    module = importlib.import_module(name)
    type_utils = importlib.import_module(f"{name}.types.utils")
    return LibraryAPI(
        name=name,
        module=module,
        custom_llm_base=module.CustomLLM,
        model_response=module.ModelResponse,
        streaming_chunk=type_utils.GenericStreamingChunk,
        completion=module.completion,
        acompletion=module.acompletion,
    )


def build_response(api: LibraryAPI) -> Any:
    """Build the one ``ModelResponse`` every non-streaming call returns."""
    return api.model_response(
        id="chatcmpl-bench",
        model="m",
        created=1_700_000_000,
        object="chat.completion",
        choices=[
            {
                "index": 0,
                "message": {"role": "assistant", "content": RESPONSE_TEXT},
                "finish_reason": "stop",
            }
        ],
        usage={"prompt_tokens": PROMPT_TOKENS, "completion_tokens": 7, "total_tokens": 12},
    )


def chunk_text(index: int) -> str:
    """Text of chunk ``index``; distinct per chunk, since LiteLLM rejects repeated chunks."""
    return f"w{index} "


def build_chunks(api: LibraryAPI, count: int) -> list[Any]:
    """Build the ``count`` ``GenericStreamingChunk`` dicts every stream yields.

    All but the last carry text; the last is empty and finishes the stream with usage.
    """
    chunks = [
        api.streaming_chunk(
            text=chunk_text(i),
            tool_use=None,
            is_finished=False,
            finish_reason="",
            usage=None,
            index=0,
        )
        for i in range(count - 1)
    ]
    usage = {
        "prompt_tokens": PROMPT_TOKENS,
        "completion_tokens": count - 1,
        "total_tokens": PROMPT_TOKENS + count - 1,
    }
    chunks.append(
        api.streaming_chunk(
            text="", tool_use=None, is_finished=True, finish_reason="stop", usage=usage, index=0
        )
    )
    return chunks


def expected_stream_text(count: int) -> str:
    """Return the text a consumer reassembles from a whole stream of ``count`` chunks."""
    return "".join(chunk_text(i) for i in range(count - 1))


def make_handler(api: LibraryAPI, chunk_count: int) -> Any:
    """Return a handler instance subclassing ``api``'s ``CustomLLM``.

    ``completion``/``acompletion`` return one prebuilt response; ``streaming``/``astreaming``
    yield ``chunk_count`` prebuilt chunks. All four ignore their arguments.
    """
    response = build_response(api)
    chunks = build_chunks(api, chunk_count)

    class BenchHandler(api.custom_llm_base):  # type: ignore[misc,name-defined]
        """Answers every call from prebuilt objects."""

        def completion(self, *args: Any, **kwargs: Any) -> Any:
            return response

        async def acompletion(self, *args: Any, **kwargs: Any) -> Any:
            return response

        def streaming(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
            yield from chunks

        async def astreaming(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            for chunk in chunks:
                yield chunk

    return BenchHandler()


def register(api: LibraryAPI, handler: Any) -> None:
    """Route ``bench/...`` models of ``api`` to ``handler`` via ``custom_provider_map``.

    LiteLLM 1.110.2 needs nothing more: every call runs ``custom_llm_setup()``, which picks up
    a reassigned ``litellm.custom_provider_map``.
    """
    if api.module is None:
        raise ValueError("the floor has no library to register a handler with")
    provider_map = [{"provider": PROVIDER, "custom_handler": handler}]
    setattr(api.module, "custom_provider_map", provider_map)  # noqa: B010 (module attribute)
