"""What the ``example`` provider answers, called through llmctl as its users call it."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import struct
import subprocess
import sys
from typing import Any

import llmctl
import pytest

from llmctl_example import ExampleLLM

HELLO = [{"role": "user", "content": "hello there general kenobi"}]


def content(response: llmctl.ModelResponse) -> str | None:
    return response.choices[0].message.content


def streamed(**kwargs: Any) -> tuple[str, list[llmctl.ModelResponseStream]]:
    chunks = list(llmctl.completion(stream=True, **kwargs))
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), chunks


# -- chat -------------------------------------------------------------------------------------


def test_echo_repeats_the_last_user_message() -> None:
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "second question"},
    ]
    response = llmctl.completion("example/echo", messages)
    assert content(response) == "second question"
    assert response.model == "echo"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (6, 2)


def test_reverse_answers_the_message_reversed() -> None:
    response = asyncio.run(llmctl.acompletion("example/reverse", HELLO))
    assert content(response) == "ibonek lareneg ereht olleh"


def test_content_parts_are_read_as_text() -> None:
    parts = [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "x"}}]
    response = llmctl.completion("example/echo", [{"role": "user", "content": parts}])
    assert content(response) == "hi"


def test_stream_sends_one_word_per_chunk_and_usage_last() -> None:
    text, chunks = streamed(model="example/echo", messages=HELLO)
    assert text == "hello there general kenobi"
    assert [c.choices[0].delta.content for c in chunks] == [
        "hello",
        " there",
        " general",
        " kenobi",
        None,
    ]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 8


@pytest.mark.parametrize("param", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_cuts_the_answer_and_finishes_with_length(param: str) -> None:
    limit: dict[str, Any] = {param: 2}
    response = llmctl.completion("example/echo", HELLO, **limit)
    assert content(response) == "hello there"
    assert response.choices[0].finish_reason == "length"
    text, chunks = streamed(model="example/echo", messages=HELLO, **limit)
    assert text == "hello there" and chunks[-1].choices[0].finish_reason == "length"


@pytest.mark.parametrize(
    ("stop", "answer"),
    [
        pytest.param(" general", "hello there", id="string"),
        pytest.param(["kenobi", "there"], "hello ", id="list-earliest-wins"),
        pytest.param("absent", "hello there general kenobi", id="not-found"),
    ],
)
def test_stop_cuts_before_the_first_stop_sequence(stop: Any, answer: str) -> None:
    response = llmctl.completion("example/echo", HELLO, stop=stop)
    assert content(response) == answer
    assert response.choices[0].finish_reason == "stop"


def test_temperature_is_accepted_in_range_and_refused_outside() -> None:
    assert content(llmctl.completion("example/echo", HELLO, temperature=0.3)) == HELLO[0]["content"]
    with pytest.raises(llmctl.BadRequestError, match="temperature must be between 0 and 2"):
        llmctl.completion("example/echo", HELLO, temperature=3)


def test_an_openai_param_it_does_not_declare_is_refused_or_dropped() -> None:
    with pytest.raises(llmctl.UnsupportedParamsError) as info:
        llmctl.completion("example/echo", HELLO, top_p=0.5)
    assert info.value.param == "top_p"
    response = llmctl.completion("example/echo", HELLO, top_p=0.5, drop_params=True)
    assert content(response) == HELLO[0]["content"]


def test_no_user_message_is_a_bad_request() -> None:
    with pytest.raises(llmctl.BadRequestError, match="no user message"):
        llmctl.completion("example/echo", [{"role": "system", "content": "hi"}])


def test_an_unknown_model_is_not_found_and_names_the_models() -> None:
    with pytest.raises(llmctl.NotFoundError) as info:
        llmctl.completion("example/gpt-5", HELLO)
    assert "example has no chat model 'gpt-5'; it serves example/echo, example/reverse" in str(
        info.value
    )


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        pytest.param(429, llmctl.RateLimitError, id="429"),
        pytest.param(503, llmctl.ServiceUnavailableError, id="503"),
    ],
)
def test_example_fail_status_fails_every_operation(
    status: int, error_class: type[llmctl.LLMCtlError]
) -> None:
    fail: dict[str, Any] = {"example_fail_status": status}
    with pytest.raises(error_class, match=f"failed with HTTP {status}"):
        llmctl.completion("example/echo", HELLO, **fail)
    with pytest.raises(error_class):
        llmctl.embedding("example/embed", "x", **fail)
    with pytest.raises(error_class):
        llmctl.image_generation("x", "example/image", **fail)


def test_example_fail_status_must_be_an_error_status() -> None:
    with pytest.raises(llmctl.BadRequestError, match="must be an HTTP error status, got 200"):
        llmctl.completion("example/echo", HELLO, example_fail_status=200)


# -- embeddings -------------------------------------------------------------------------------


def test_embeddings_are_deterministic_unit_vectors() -> None:
    first = llmctl.embedding("example/embed", ["a", "b"])
    again = asyncio.run(llmctl.aembedding("example/embed", ["a", "b"]))
    vectors = [item.embedding for item in first.data]
    assert vectors == [item.embedding for item in again.data]
    assert vectors[0] != vectors[1]
    for vector in vectors:
        assert isinstance(vector, list) and len(vector) == 8
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0)


def test_dimensions_and_base64_encoding_follow_openai() -> None:
    as_floats = llmctl.embedding("example/embed", "x", dimensions=20).data[0].embedding
    encoded = llmctl.embedding("example/embed", "x", dimensions=20, encoding_format="base64")
    raw = base64.b64decode(encoded.data[0].embedding)  # type: ignore[arg-type]
    assert isinstance(as_floats, list) and len(as_floats) == 20
    assert struct.unpack("<20f", raw) == pytest.approx(as_floats)


# -- images -----------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_images_are_valid_pngs_of_the_requested_size() -> None:
    response = llmctl.image_generation("a cat", "example/image", n=2, size="32x16")
    images = [base64.b64decode(item.b64_json or "") for item in response.data]
    assert [png_size(image) for image in images] == [(32, 16), (32, 16)]
    assert images[0] != images[1]  # each image has its own colour


def test_response_format_url_gives_a_data_url() -> None:
    response = asyncio.run(
        llmctl.aimage_generation("a cat", "example/image", response_format="url")
    )
    url = response.data[0].url or ""
    assert url.startswith("data:image/png;base64,")
    assert png_size(base64.b64decode(url.partition(",")[2])) == (256, 256)


def test_an_oversized_image_is_a_bad_request() -> None:
    with pytest.raises(llmctl.BadRequestError, match="size must be 'WIDTHxHEIGHT'"):
        llmctl.image_generation("a cat", "example/image", size="4096x4096")


# -- the installed plugin ---------------------------------------------------------------------


def llmctl_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmctl", *args], capture_output=True, text=True, timeout=60
    )


def test_providers_list_shows_the_installed_plugin_without_importing_it() -> None:
    result = llmctl_cli("providers", "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = [row for row in json.loads(result.stdout) if row["name"] == "example"]
    assert rows == [
        {
            "name": "example",
            "source": "entry_point",
            "distribution": "llmctl-example",
            "version": "0.1.0",
            "operations": [],
            "status": "unloaded",
            "error": None,
        }
    ]


def test_providers_list_check_loads_it_with_every_operation() -> None:
    result = llmctl_cli("providers", "list", "--json", "--check")
    row = next(row for row in json.loads(result.stdout) if row["name"] == "example")
    assert (row["status"], row["error"]) == ("ok", None)
    assert row["operations"] == [
        "completion",
        "acompletion",
        "streaming",
        "astreaming",
        "image_generation",
        "aimage_generation",
        "embedding",
        "aembedding",
    ]


def test_providers_check_runs_the_health_check() -> None:
    result = llmctl_cli("providers", "check", "example", "--json")
    assert result.returncode == 0, result.stderr
    [report] = json.loads(result.stdout)
    assert (report["name"], report["status"], report["answer"]) == (
        "example",
        "ok",
        {"status": "ok"},
    )


def test_health_check_answers_ok_directly() -> None:
    assert ExampleLLM().health_check(timeout=1.0) == {"status": "ok"}
