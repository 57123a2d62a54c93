"""Reading TorchServe's answers: complete bodies and streamed pieces, in every shape."""

from __future__ import annotations

import llmctl
import pytest
from llmctl.http import Endpoint

from llmctl_torchserve.answer import PieceReader, answer_text
from llmctl_torchserve.jsonseq import JsonSequence
from llmctl_torchserve.options import Options

SERVER = Endpoint(provider="torchserve", base_url="http://127.0.0.1:8080", model="m")


@pytest.mark.parametrize(
    ("body", "text"),
    [
        pytest.param("Hello", "Hello", id="plain-text"),
        pytest.param('"Hello"', "Hello", id="json-string"),
        pytest.param('{"text": "Hello", "score": 1}', "Hello", id="text"),
        pytest.param('{"output": "Hello"}', "Hello", id="output"),
        pytest.param('{"generated_text": "Hello", "text": "no"}', "Hello", id="first-field-wins"),
        pytest.param('[{"generated_text": "Hello"}, {"generated_text": "no"}]', "Hello", id="list"),
        pytest.param('["Hello", "no"]', "Hello", id="list-of-strings"),
        pytest.param('{"text": "He"}{"text": "llo"}', "Hello", id="json-pieces"),
        pytest.param('{"text": "He"}\n{"text": "llo"}\n', "Hello", id="ndjson-pieces"),
        pytest.param('{"name": "Ada"}', '{"name": "Ada"}', id="json-without-text-as-is"),
        pytest.param('{"text": "He"}{"n": 1}', '{"text": "He"}{"n": 1}', id="piece-without-text"),
        pytest.param("42", "42", id="number-is-plain-text"),
        pytest.param('{"text": "Hi"} and more', '{"text": "Hi"} and more', id="json-then-text"),
        pytest.param("", "", id="empty"),
    ],
)
def test_a_complete_answer_is_json_with_text_or_else_text_as_it_is(body: str, text: str) -> None:
    assert answer_text(body, Options(), SERVER) == text


@pytest.mark.parametrize(
    ("body", "path", "text"),
    [
        pytest.param('{"a": {"b": "Hello"}}', ("a", "b"), "Hello", id="keys"),
        pytest.param('{"a": [{"b": "no"}, {"b": "Hello"}]}', ("a", "1", "b"), "Hello", id="index"),
        pytest.param('{"a": {"b": "He"}}{"a": {"b": "llo"}}', ("a", "b"), "Hello", id="pieces"),
    ],
)
def test_output_field_is_a_path_of_keys_and_indexes(
    body: str, path: tuple[str, ...], text: str
) -> None:
    assert answer_text(body, Options(output_field=path), SERVER) == text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param("Hello", "is not JSON: Hello; unset torchserve_output_field", id="not-json"),
        pytest.param('{"a": []}', "has no '0'", id="index-out-of-range"),
        pytest.param('{"a": [3]}', "has 3 at torchserve_output_field='a.0', not text", id="number"),
    ],
)
def test_output_field_failures_say_what_was_found(body: str, message: str) -> None:
    with pytest.raises(llmctl.BadGatewayError, match=message):
        answer_text(body, Options(output_field=("a", "0")), SERVER)


def test_text_pieces_are_passed_on_as_they_arrive() -> None:
    reader = PieceReader(Options(), SERVER)
    assert reader.feed('{"te') == ['{"te']
    reader.close()


def test_json_pieces_are_found_however_the_chunks_split_them() -> None:
    reader = PieceReader(Options(stream_format="json"), SERVER)
    received = ['{"te', 'xt": "He"}{"text"', ': "l', 'lo"}\n', '{"text": ""}']
    assert [reader.feed(text) for text in received] == [[], ["He"], [], ["llo"], [""]]
    reader.close()


def test_json_pieces_read_the_output_field() -> None:
    reader = PieceReader(Options(stream_format="json", output_field=("delta",)), SERVER)
    assert reader.feed('{"delta": "a"}{"delta": "b"}') == ["a", "b"]


def test_a_json_stream_cut_inside_a_piece_raises_at_the_end() -> None:
    reader = PieceReader(Options(stream_format="json"), SERVER)
    assert reader.feed('{"text": "He"}{"text": "ll') == ["He"]
    with pytest.raises(llmctl.BadGatewayError, match="not a complete JSON value"):
        reader.close()


def test_a_json_piece_without_text_names_the_output_field() -> None:
    reader = PieceReader(Options(stream_format="json"), SERVER)
    with pytest.raises(llmctl.BadGatewayError, match="set torchserve_output_field"):
        reader.feed('{"tokens": 3}')


def test_json_sequence_keeps_what_is_incomplete() -> None:
    sequence = JsonSequence()
    assert sequence.feed(' "a" [1, 2') == ["a"]
    assert sequence.rest == "[1, 2"
    assert sequence.feed("] {}") == [[1, 2], {}]
    assert sequence.rest == ""
