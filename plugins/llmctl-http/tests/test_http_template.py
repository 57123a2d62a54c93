"""Templates fill in a call's values; paths find values in an answer."""

from __future__ import annotations

from typing import Any

import pytest

from llmctl_http.paths import MISSING, JsonPath
from llmctl_http.template import MissingValueError, Template, TemplateError, UrlTemplate

VALUES: dict[str, Any] = {
    "model": "m1",
    "max_tokens": 64,
    "temperature": 0.5,
    "stream": False,
    "messages": [{"role": "user", "content": "hi"}],
    "stop": ["\n"],
    "prompt": 'say "hi"',
}


@pytest.mark.parametrize(
    ("template", "rendered"),
    [
        pytest.param("{max_tokens}", 64, id="int"),
        pytest.param("{stream}", False, id="bool"),
        pytest.param("{messages}", VALUES["messages"], id="list"),
        pytest.param("{prompt}", 'say "hi"', id="string"),
        pytest.param("model-{model}", "model-m1", id="string-in-text"),
        pytest.param("t={temperature}, stop={stop}", 't=0.5, stop=["\\n"]', id="json-in-text"),
        pytest.param("{stream} or not", "false or not", id="bool-in-text"),
        pytest.param("{{literal}} {model}", "{literal} m1", id="escaped-braces"),
        pytest.param("no placeholder", "no placeholder", id="constant"),
        pytest.param(7, 7, id="number"),
        pytest.param(None, None, id="null"),
    ],
)
def test_a_whole_placeholder_keeps_its_type_and_text_is_formatted(
    template: Any, rendered: Any
) -> None:
    assert Template(template).render(VALUES) == rendered


def test_a_key_or_item_without_a_value_is_left_out_not_null() -> None:
    template = Template(
        {
            "a": "{max_tokens}",
            "b": "{top_p}",
            "c": "p={top_p}",
            "d": ["{model}", "{seed}", 1],
            "e": {"f": "{seed}"},
        }
    )
    assert template.render(VALUES) == {"a": 64, "d": ["m1", 1], "e": {}}
    assert Template("{seed}").render(VALUES) is MISSING


def test_a_template_knows_where_each_name_is_first_used() -> None:
    template = Template({"params": {"n": "{max_tokens}"}, "list": ["x", "{model}"], "m": "{model}"})
    assert template.names == {"max_tokens": "params.n", "model": "list.1"}


@pytest.mark.parametrize(
    ("source", "where", "message"),
    [
        pytest.param({"a": ["x", "{"]}, "a.1", "has a lone '{'", id="lone-open"),
        pytest.param({"a": "}"}, "a", "has a lone '}'", id="lone-close"),
        pytest.param({"a": "{ model }"}, "a", "is not a placeholder name", id="spaces"),
        pytest.param({"a": "{}"}, "a", "is not a placeholder name", id="empty"),
    ],
)
def test_a_malformed_placeholder_is_named_with_its_place(
    source: Any, where: str, message: str
) -> None:
    with pytest.raises(TemplateError, match=message) as info:
        Template(source)
    assert info.value.where == where


def test_a_url_template_percent_encodes_every_value() -> None:
    path = UrlTemplate("/v2/{model}/generate?stop={stop}")
    assert path.names == ("model", "stop")
    values = {"model": "org/m 1", "stop": ["\n"]}
    assert path.render(values) == "/v2/org%2Fm%201/generate?stop=%5B%22%5Cn%22%5D"


def test_a_url_template_needs_every_value() -> None:
    with pytest.raises(MissingValueError) as info:
        UrlTemplate("/v2/{region}").render({})
    assert info.value.name == "region"


@pytest.mark.parametrize("value", [".", ".."])
def test_a_url_value_that_would_change_the_path_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="would change the path"):
        UrlTemplate("/v2/{model}/generate").render({"model": value})


# -- paths ------------------------------------------------------------------------------------

ANSWER = {
    "output": {"text": "hi", "0": "zero"},
    "choices": [{"text": "a"}, {"text": "b"}],
    "data": [{"vector": [1, 2]}, {"vector": [3, 4]}],
    "done": None,
}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param("output.text", "hi", id="keys"),
        pytest.param("choices.1.text", "b", id="index"),
        pytest.param("choices.-1.text", "b", id="last"),
        pytest.param("output.0", "zero", id="digit-key"),
        pytest.param("done", None, id="null"),
        pytest.param("", ANSWER, id="root"),
    ],
)
def test_a_path_finds_its_value(path: str, value: Any) -> None:
    assert JsonPath(path).find(ANSWER) == value


def test_a_wildcard_maps_over_a_list() -> None:
    assert JsonPath("data.*.vector", wildcard=True).find(ANSWER) == [[1, 2], [3, 4]]


@pytest.mark.parametrize(
    ("path", "why"),
    [
        pytest.param("output.txt", "output has no key 'txt' (its keys: text, 0)", id="key"),
        pytest.param("choices.2.text", "choices is a list of 2 items, with no index 2", id="index"),
        pytest.param("choices.first", "choices is a list, so 'first' must be an index", id="name"),
        pytest.param(
            "output.text.x", "output.text is a string, not an object or a list", id="leaf"
        ),
        pytest.param("data.*.v", "data.0 has no key 'v' (its keys: vector)", id="*"),
    ],
)
def test_a_missing_path_says_where_the_lookup_stopped(path: str, why: str) -> None:
    found = JsonPath(path, wildcard=True)
    assert found.find(ANSWER) is MISSING
    assert found.why_missing(ANSWER) == why
