"""Validating API descriptions: each mistake named with its key path and what is expected."""

from __future__ import annotations

import copy
import math
from typing import Any

import llmctl
import pytest

import fake_acme
from llmctl_http import ApiDescription, load_description
from llmctl_http.description import description_of

MINIMAL: dict[str, Any] = {
    "path": "/generate",
    "body": {"q": "{prompt}"},
    "response": {"text": "t"},
}


def problems(description: Any) -> str:
    with pytest.raises(llmctl.BadRequestError) as info:
        load_description(description, model="acme-1")
    assert info.value.param == "http"
    message = info.value.message
    assert message.startswith(
        "the API description of model 'acme-1' is invalid (see docs/providers/http.md):\n  "
    )
    return message.partition(":\n  ")[2]


def with_(**keys: Any) -> dict[str, Any]:
    description = copy.deepcopy(MINIMAL)
    description.update(keys)
    return description


@pytest.mark.parametrize(
    "description", [fake_acme.NDJSON, fake_acme.SSE, fake_acme.TEXT, fake_acme.NONE, MINIMAL]
)
def test_the_documented_descriptions_are_valid(description: dict[str, Any]) -> None:
    assert isinstance(load_description(description), ApiDescription)


def test_an_equal_description_is_validated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    validate = ApiDescription.model_validate

    def counting(value: Any) -> ApiDescription:
        calls.append(value)
        return validate(value)

    monkeypatch.setattr(ApiDescription, "model_validate", counting)
    unique = with_(headers={"X-Test": "validated-once"})
    first = load_description(unique)
    assert load_description(copy.deepcopy(unique)) is first
    assert len(calls) == 1


def test_a_description_changed_in_place_is_validated_again() -> None:
    description = with_(headers={"X-Test": "changed-in-place"})
    assert load_description(description).path.source == "/generate"
    description["path"] = "/v2/generate"
    assert load_description(description).path.source == "/v2/generate"


# -- shapes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        pytest.param(
            [1],
            "http: must be a mapping of keys (path, body, response, ...)",
            id="not-a-mapping",
        ),
        pytest.param(
            with_(defaults={"temperature": math.nan}),
            "http: must hold JSON values only (mappings, lists, strings, finite numbers, "
            "booleans, null): Out of range float values are not JSON compliant",
            id="not-json",
        ),
        pytest.param(
            {"body": {}, "response": {"text": "t"}},
            "http.path: required: the URL path relative to api_base, such as /v2/generate/{model}",
            id="path-missing",
        ),
        pytest.param(
            with_(respons={"text": "t"}),
            "http.respons: unknown key; did you mean 'response'? the keys here are: path, "
            "method, headers, auth, body, defaults, options, response, stream, embedding, "
            "health",
            id="unknown-key",
        ),
        pytest.param(
            with_(response={"txt": "t"}),
            "http.response.txt: unknown key; did you mean 'text'? the keys here are: format, "
            "text, finish_reason, usage, tool_calls",
            id="unknown-nested-key",
        ),
        pytest.param(
            with_(path="https://llm.acme/generate"),
            "http.path: 'https://llm.acme/generate' is a full URL; write the path only "
            "(/v2/generate) and put the server's address in api_base",
            id="full-url",
        ),
        pytest.param(
            with_(path=3),
            "http.path: must be a URL path such as /v2/generate/{model}, got 3",
            id="path-not-a-string",
        ),
        pytest.param(
            with_(method="FETCH"),
            "http.method: Input should be 'GET', 'POST', 'PUT', 'PATCH' or 'DELETE', got 'FETCH'",
            id="method",
        ),
        pytest.param(
            with_(body={"q": "{prompt"}),
            "http.body.q: '{prompt' has a lone '{'; write {{ for a literal brace",
            id="lone-brace",
        ),
        pytest.param(
            with_(body={"q": ["a", "{max-tokens}"]}),
            "http.body.q.1: {max-tokens} in '{max-tokens}' is not a placeholder name (letters, "
            "digits and _, such as {max_tokens}); write {{ and }} for literal braces",
            id="bad-name",
        ),
        pytest.param(
            with_(response={"text": "output..text"}),
            "http.response.text: 'output..text' has an empty segment; write keys and list "
            "indexes separated by single dots, such as output.choices.0.text",
            id="empty-segment",
        ),
        pytest.param(
            with_(response={"text": "choices.*.text"}),
            "http.response.text: 'choices.*.text' has '*', which only embedding.vectors "
            "accepts; name one item with its index, such as choices.0.text",
            id="wildcard",
        ),
        pytest.param(
            with_(response={"text": 0}),
            "http.response.text: must be a dotted path into the answer such as output.text or "
            "choices.0.text, got 0",
            id="path-not-a-string",
        ),
        pytest.param(
            with_(response={"text": "t", "finish_reason": 3}),
            "http.response.finish_reason: must be a dotted path (output.stop_reason) or "
            "{path: ..., map: {...}} mapping the backend's values to stop, length, tool_calls, "
            "content_filter or function_call, got 3",
            id="finish-reason-shape",
        ),
        pytest.param(
            with_(response={"text": "t", "finish_reason": {"path": "r", "map": {"eos": "end"}}}),
            "http.response.finish_reason.map.eos: Input should be 'stop', 'length', "
            "'tool_calls', 'content_filter' or 'function_call', got 'end'",
            id="finish-reason-map",
        ),
        pytest.param(
            with_(stream={"framing": "sse", "text": "t", "done": {"data": "x", "path": "y"}}),
            "http.stream.done: give either the SSE data that ends the stream (done: '[DONE]') "
            "or a path and its last value (done: {path: done, equals: true})",
            id="done-both",
        ),
        pytest.param(
            with_(stream={"framing": "ndjsn"}),
            "http.stream.framing: Input should be 'none', 'text', 'ndjson' or 'sse', got 'ndjsn'",
            id="framing",
        ),
        pytest.param(
            with_(embedding={"path": "/embed"}),
            "http.embedding.vectors: required: the dotted path of the vectors in the answer, "
            "such as data.*.embedding",
            id="vectors-missing",
        ),
        pytest.param(
            with_(response={"text": "t", "usage": {"input_tokens": "a"}}),
            "http.response.usage.input_tokens: unknown key; did you mean 'prompt_tokens'? the "
            "keys here are: prompt_tokens, completion_tokens, total_tokens",
            id="usage-key",
        ),
    ],
)
def test_a_malformed_key_is_named_with_what_it_expects(description: Any, expected: str) -> None:
    assert problems(description) == expected


def test_every_malformed_key_is_listed() -> None:
    found = problems({"body": {"q": "{"}, "response": {"txt": "t"}})
    assert [line.strip() for line in found.splitlines()] == [
        "http.path: required: the URL path relative to api_base, such as /v2/generate/{model}",
        "http.body.q: '{' has a lone '{'; write {{ for a literal brace",
        "http.response.txt: unknown key; did you mean 'text'? the keys here are: format, "
        "text, finish_reason, usage, tool_calls",
    ]


# -- placeholders, options and defaults --------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        pytest.param(
            with_(body={"params": {"max_len": "{max_toks}"}}),
            "http.body.params.max_len: unknown placeholder {max_toks} (did you mean "
            "{max_tokens}?). Declare an option of your API's own in http.options, or give it a "
            "value in http.defaults",
            id="unknown",
        ),
        pytest.param(
            with_(path="/v2/{regoin}/generate"),
            "http.path: unknown placeholder {regoin}. Declare an option of your API's own in "
            "http.options, or give it a value in http.defaults",
            id="unknown-in-path",
        ),
        pytest.param(
            with_(body={"q": "{input}"}),
            "http.body.q: {input} is a value of embedding calls (http.embedding); chat "
            "templates have {model}, {messages}, {prompt}, {stream} and the OpenAI chat "
            "parameters",
            id="embedding-value-in-chat",
        ),
        pytest.param(
            with_(embedding={"path": "/e", "body": ["{messages}"], "vectors": "v"}),
            "http.embedding.body.0: {messages} is a value of chat calls; embedding templates "
            "have {model}, {input}, {inputs}, {dimensions} and {user}",
            id="chat-value-in-embedding",
        ),
        pytest.param(
            with_(body={"n": "{n}"}),
            "http.body.n: n is an OpenAI parameter llmctl-http does not send (llmctl refuses "
            "it before the call, as the answer it changes cannot be read back)",
            id="unsent-openai-param",
        ),
        pytest.param(
            with_(options=["region-1"]),
            "http.options.0: 'region-1' is not a placeholder name (letters, digits, _)",
            id="option-name",
        ),
        pytest.param(
            with_(options=["temperature"], body={"t": "{temperature}"}),
            "http.options.0: temperature is an OpenAI parameter: use {temperature} without "
            "declaring it (give it a value in defaults to have one when the call has none)",
            id="option-openai",
        ),
        pytest.param(
            with_(defaults={"model": "m"}),
            "http.defaults.model: {model} is a value of every call; it has no default",
            id="default-call-value",
        ),
        pytest.param(
            with_(options=["http"]),
            "http.options.0: 'http' is a key of llmctl's config, not an option",
            id="option-reserved",
        ),
        pytest.param(
            with_(defaults={"region": "eu"}),
            "http.defaults.region: no template uses {region}; use it or remove it",
            id="default-unused",
        ),
        pytest.param(
            with_(health={"path": "/health/{model}"}),
            "http.health.path: a health check has no call, so no values: write the path "
            "without placeholders (it has {model})",
            id="health-placeholder",
        ),
    ],
)
def test_a_placeholder_the_call_cannot_fill_is_named(description: Any, expected: str) -> None:
    assert problems(description) == expected


def test_an_option_and_a_default_declare_names_of_the_api_s_own() -> None:
    api = load_description(
        with_(
            path="/v2/{region}/generate",
            body={"q": "{prompt}", "tier": "{tier}"},
            options=["tier"],
            defaults={"region": "eu", "temperature": 0.2},
            response={"text": "t"},
        )
        | {"body": {"q": "{prompt}", "tier": "{tier}", "t": "{temperature}"}}
    )
    assert api.own_options() == {"tier", "region"}


# -- sections that fit together ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        pytest.param(
            {"path": "/g", "body": {}},
            "http.response: required: where the answer's text is (response: {text: "
            "output.text}), unless stream.framing is text, ndjson or sse (completions are then "
            "the stream joined)",
            id="response-missing",
        ),
        pytest.param(
            with_(response={"format": "json"}),
            "http.response.text: required: the dotted path of the answer's text, such as "
            "output.text or choices.0.message.content",
            id="response-text-missing",
        ),
        pytest.param(
            with_(response={"format": "text", "usage": {"prompt_tokens": "a"}}),
            "http.response.usage: with format text the whole answer is the text, with no usage "
            "to read; remove it",
            id="text-format-with-paths",
        ),
        pytest.param(
            with_(method="get"),
            "http.body: a GET request has no body; put values in the path's query string, "
            "such as /generate?q={prompt}, or use POST",
            id="get-with-body",
        ),
        pytest.param(
            with_(stream={"framing": "none", "text": "delta"}),
            "http.stream.text: framing none serves the complete answer (http.response) as one "
            "chunk; remove it",
            id="none-with-text",
        ),
        pytest.param(
            with_(stream={"framing": "text", "done": "[DONE]"}),
            "http.stream.done: framing text streams plain text, with no done to read; remove it",
            id="text-with-done",
        ),
        pytest.param(
            with_(stream={"framing": "ndjson"}),
            "http.stream.text: required with framing ndjson: the dotted path of each line's "
            "text, such as delta or message.content",
            id="ndjson-without-text",
        ),
        pytest.param(
            with_(stream={"framing": "ndjson", "text": "d", "done": "[DONE]"}),
            "http.stream.done: an NDJSON stream ends at an object, not at SSE data: write "
            "done: {path: done, equals: true}",
            id="ndjson-with-data-done",
        ),
        pytest.param(
            with_(stream={"framing": "sse", "usage": {"prompt_tokens": "u"}}),
            "http.stream.usage: without stream.text the events are plain text, with no usage "
            "to read; give stream.text the path of the text in each JSON event",
            id="plain-sse-with-usage",
        ),
        pytest.param(
            with_(stream={"framing": "sse", "done": {"path": "done"}}),
            "http.stream.done: without stream.text the events are plain text: give the data "
            "that ends the stream, such as done: '[DONE]'",
            id="plain-sse-with-path-done",
        ),
    ],
)
def test_sections_that_do_not_fit_together_are_named(description: Any, expected: str) -> None:
    assert problems(description) == expected


# -- where the description comes from ---------------------------------------------------------


def test_the_configured_description_wins_and_a_call_cannot_replace_it() -> None:
    configured = with_(headers={"X-Source": "config"})
    api = description_of(
        model="acme-1", optional_params={"http": configured}, litellm_params={"http": configured}
    )
    assert api.headers == {"X-Source": "config"}
    with pytest.raises(llmctl.BadRequestError, match=r"set in config\.yaml; a call cannot replace"):
        description_of(
            model="acme-1",
            optional_params={"http": with_(path="/admin")},
            litellm_params={"http": configured},
        )


def test_a_model_without_a_description_says_where_to_give_one() -> None:
    with pytest.raises(llmctl.BadRequestError, match=r"has no API description: give its") as info:
        llmctl.completion("http/acme-1", [{"role": "user", "content": "hi"}], api_base="http://x")
    assert "http: {path: ..., body: ..., response: ...}" in info.value.message
