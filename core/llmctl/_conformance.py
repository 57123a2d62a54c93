"""What a valid answer looks like: the checks behind :mod:`llmctl.testing`.

Each check raises ``AssertionError`` with what the provider did and the rule it broke, so a
plugin author reads the fix in the failure. Nothing here imports pytest.
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Final, NoReturn

from llmctl.streaming import CustomStreamWrapper
from llmctl.types.responses import (
    EmbeddingResponse,
    ImageResponse,
    ModelResponse,
    ModelResponseStream,
    Usage,
)

__all__ = [
    "FINISH_REASONS",
    "check_embedding_response",
    "check_image_response",
    "check_model_response",
    "check_stream",
    "fail",
    "require",
    "require_stream",
]

#: The finish reasons OpenAI's clients accept on a choice.
FINISH_REASONS: Final = frozenset(
    {"stop", "length", "tool_calls", "content_filter", "function_call"}
)


def check_model_response(response: object, where: str) -> None:
    __tracebackhide__ = True
    require(
        isinstance(response, ModelResponse),
        f"{where} returned {type(response).__name__}",
        "completion returns a ModelResponse",
    )
    assert isinstance(response, ModelResponse)
    check_identity(response.id, response.created, response.model, where)
    require(
        response.object == "chat.completion",
        f"{where} returned object={response.object!r}",
        "a complete response has object 'chat.completion'",
    )
    require(
        len(response.choices) == 1,
        f"{where} returned {len(response.choices)} choices",
        "a request without n is answered with exactly one choice",
    )
    choice = response.choices[0]
    message = choice.message
    require(
        message.role == "assistant",
        f"{where} returned choices[0].message.role={message.role!r}",
        "the answer is the assistant's message (role 'assistant')",
    )
    require(
        (isinstance(message.content, str) and message.content != "") or bool(message.tool_calls),
        f"{where} returned choices[0].message.content={message.content!r} and no tool calls",
        "the answer to a plain question has non-empty text content",
    )
    require(
        choice.finish_reason in FINISH_REASONS,
        f"{where} returned choices[0].finish_reason={choice.finish_reason!r}",
        "every choice says why it ended: one of " + ", ".join(sorted(FINISH_REASONS)),
    )
    check_usage(response.usage, where, "usage")


def check_identity(id: object, created: object, model: object, where: str) -> None:
    __tracebackhide__ = True
    require(
        isinstance(id, str) and id != "",
        f"{where} returned id={id!r}",
        "a response has a non-empty string id",
    )
    require(
        isinstance(created, int) and not isinstance(created, bool) and created > 0,
        f"{where} returned created={created!r}",
        "created is the Unix time of the response, an int",
    )
    require(
        isinstance(model, str) and model != "",
        f"{where} returned model={model!r}",
        "a response names the model that answered",
    )


def check_usage(usage: object, where: str, path: str) -> None:
    __tracebackhide__ = True
    require(
        isinstance(usage, Usage),
        f"{where} returned {path}={usage!r:.200}",
        "usage has prompt_tokens, completion_tokens and total_tokens",
    )
    assert isinstance(usage, Usage)
    counts = {
        key: getattr(usage, key) for key in ("prompt_tokens", "completion_tokens", "total_tokens")
    }
    for key, value in counts.items():
        require(
            isinstance(value, int) and not isinstance(value, bool) and value >= 0,
            f"{where} returned {path}.{key}={value!r}",
            "token counts are non-negative ints",
        )
    prompt, completion, total = counts.values()
    if prompt and completion:
        require(
            total == prompt + completion,
            f"{where} returned {path}.total_tokens={total}, but prompt_tokens + "
            f"completion_tokens = {prompt} + {completion} = {prompt + completion}",
            "total_tokens is prompt_tokens + completion_tokens (leave it out and llmctl adds "
            "them up)",
        )
    else:
        require(
            total >= max(prompt, completion),
            f"{where} returned {path}.total_tokens={total}, less than one of its parts "
            f"(prompt_tokens={prompt}, completion_tokens={completion})",
            "total_tokens is prompt_tokens + completion_tokens",
        )


def require_stream(stream: object, where: str) -> None:
    __tracebackhide__ = True
    require(
        isinstance(stream, CustomStreamWrapper),
        f"{where} returned {type(stream).__name__}",
        "a stream=True call returns a CustomStreamWrapper",
    )


def check_stream(chunks: list[ModelResponseStream], where: str, *, include_usage: bool) -> str:
    """Check one whole stream's chunks; return the text they add up to."""
    __tracebackhide__ = True
    require(bool(chunks), f"{where} streamed no chunk", "a stream sends at least one chunk")
    for n, chunk in enumerate(chunks):
        require(
            isinstance(chunk, ModelResponseStream),
            f"{where} streamed {type(chunk).__name__} as chunk {n}",
            "every chunk is a ModelResponseStream",
        )
        require(
            chunk.object == "chat.completion.chunk",
            f"{where} streamed chunk {n} with object={chunk.object!r}",
            "every chunk has object 'chat.completion.chunk'",
        )
    check_identity(chunks[0].id, chunks[0].created, chunks[0].model, f"{where} (chunk 0)")
    ids = list(dict.fromkeys(chunk.id for chunk in chunks))
    require(
        len(ids) == 1,
        f"{where} streamed chunks with {len(ids)} different ids: {ids[:5]}",
        "every chunk of one stream carries the same id",
    )
    with_choices = [n for n, chunk in enumerate(chunks) if chunk.choices]
    require(
        bool(with_choices),
        f"{where} streamed no chunk with a choice",
        "a stream carries the answer in choice deltas",
    )
    first = chunks[with_choices[0]].choices[0]
    require(
        first.delta.role == "assistant",
        f"{where} streamed a first delta with role={first.delta.role!r}",
        "the first delta of a choice carries role 'assistant'",
    )
    finishes = [
        (n, choice.finish_reason)
        for n in with_choices
        for choice in chunks[n].choices
        if choice.finish_reason is not None
    ]
    require(
        len(finishes) == 1,
        f"{where} streamed {len(finishes)} finish reasons: {finishes}",
        "exactly one chunk carries the finish_reason: the last chunk with a choice (end your "
        "stream with is_finished=True and a finish_reason such as 'stop', once)",
    )
    position, reason = finishes[0]
    require(
        position == with_choices[-1],
        f"{where} streamed finish_reason={reason!r} in chunk {position}, before more choices",
        "the finish_reason comes in the last chunk with a choice",
    )
    require(
        reason in FINISH_REASONS,
        f"{where} streamed finish_reason={reason!r}",
        "the finish reason is one of " + ", ".join(sorted(FINISH_REASONS)),
    )
    text = "".join(c.delta.content or "" for n in with_choices for c in chunks[n].choices)
    require(
        text != "" or any(c.delta.tool_calls for n in with_choices for c in chunks[n].choices),
        f"{where} streamed no text",
        "the deltas' content adds up to the answer, non-empty as a complete answer's",
    )
    check_stream_usage(chunks, where, include_usage=include_usage)
    return text


def check_stream_usage(
    chunks: list[ModelResponseStream], where: str, *, include_usage: bool
) -> None:
    __tracebackhide__ = True
    reported = [n for n, chunk in enumerate(chunks) if chunk.usage is not None]
    require(
        len(reported) <= 1,
        f"{where} streamed usage in {len(reported)} chunks ({reported})",
        "usage comes once, in the last chunk",
    )
    if include_usage:
        last = chunks[-1]
        require(
            last.usage is not None and last.choices == [],
            f"{where} ended with a chunk with usage={last.usage!r} and {len(last.choices)} choices",
            "with stream_options={'include_usage': True} the last chunk has choices [] and "
            "the usage: report usage in your stream (usage on the last GenericStreamingChunk)",
        )
    if reported:
        n = reported[0]
        check_usage(chunks[n].usage, where, f"chunk {n} usage")


def check_image_response(response: object, where: str) -> None:
    __tracebackhide__ = True
    require(
        isinstance(response, ImageResponse),
        f"{where} returned {type(response).__name__}",
        "image generation returns an ImageResponse",
    )
    assert isinstance(response, ImageResponse)
    require(
        isinstance(response.created, int) and response.created > 0,
        f"{where} returned created={response.created!r}",
        "created is the Unix time of the response, an int",
    )
    require(bool(response.data), f"{where} returned no image", "the answer holds >= 1 image")
    for n, image in enumerate(response.data):
        require(
            bool(image.url) or bool(image.b64_json),
            f"{where} returned data[{n}] with neither url nor b64_json",
            "each image has a url or base64 data in b64_json",
        )
        if image.b64_json:
            try:
                base64.b64decode(image.b64_json, validate=True)
            except (binascii.Error, ValueError) as error:
                fail(
                    f"{where} returned data[{n}].b64_json that is not base64 ({error})",
                    "b64_json is the image file encoded in standard base64",
                    cause=error,
                )


def check_embedding_response(response: object, where: str, count: int) -> None:
    __tracebackhide__ = True
    require(
        isinstance(response, EmbeddingResponse),
        f"{where} returned {type(response).__name__}",
        "embedding returns an EmbeddingResponse",
    )
    assert isinstance(response, EmbeddingResponse)
    require(
        response.object == "list",
        f"{where} returned object={response.object!r}",
        "an embedding response has object 'list'",
    )
    require(
        len(response.data) == count,
        f"{where} returned {len(response.data)} embeddings for {count} inputs",
        "there is one embedding per input",
    )
    indexes = [item.index for item in response.data]
    require(
        sorted(indexes) == list(range(count)),
        f"{where} returned embeddings with indexes {indexes}",
        "each embedding's index is its input's position (0, 1, ...)",
    )
    sizes = set()
    for item in response.data:
        vector = item.embedding
        require(
            isinstance(vector, list)
            and bool(vector)
            and all(isinstance(x, float) and math.isfinite(x) for x in vector),
            f"{where} returned data[{item.index}].embedding={vector!r:.120}",
            "an embedding is a non-empty list of finite floats",
        )
        sizes.add(len(vector))
    require(
        len(sizes) == 1,
        f"{where} returned vectors of different lengths {sorted(sizes)}",
        "one model's embeddings all have one dimension",
    )
    require(
        isinstance(response.model, str) and response.model != "",
        f"{where} returned model={response.model!r}",
        "a response names the model that answered",
    )
    check_usage(response.usage, where, "usage")


# -- failing with a message -------------------------------------------------------------------


def require(
    condition: bool, problem: str, contract: str, *, cause: BaseException | None = None
) -> None:
    __tracebackhide__ = True
    if not condition:
        fail(problem, contract, cause=cause)


def fail(problem: str, contract: str, *, cause: BaseException | None = None) -> NoReturn:
    """Fail the test: what the provider did, then the rule it broke."""
    __tracebackhide__ = True
    raise AssertionError(f"{problem}.\nThe contract: {contract}.") from cause
