"""Complete chat answers: the request TorchServe receives, and the answer shapes read."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import llmctl
import pytest

from conftest import Backend
from fake_torchserve import ANSWER, ANSWER_V2

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
]
DEFAULT_PROMPT = "system: Be brief.\nuser: Hi\nassistant:"


def complete(backend: Backend, model: str = "torchserve/llama", **kwargs: Any) -> str | None:
    response = llmctl.completion(model, MESSAGES, api_base=backend.url, **kwargs)
    return response.choices[0].message.content


# -- the request ------------------------------------------------------------------------------


def test_the_prompt_is_rendered_from_the_messages_and_params_take_torchserve_names(
    backend: Backend,
) -> None:
    answer = complete(backend, max_tokens=64, temperature=0.2, top_p=0.9, stop="\n", seed=7)
    assert answer == ANSWER
    request = backend.last
    assert (request.method, request.path) == ("POST", "/predictions/llama")
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers
    assert request.body == {
        "prompt": DEFAULT_PROMPT,
        "max_new_tokens": 64,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["\n"],
        "seed": 7,
    }


def test_max_completion_tokens_is_sent_as_max_new_tokens(backend: Backend) -> None:
    complete(backend, max_completion_tokens=5, stop=["a", "b"])
    assert backend.last.body == {"prompt": DEFAULT_PROMPT, "max_new_tokens": 5, "stop": ["a", "b"]}


def test_a_version_after_a_slash_calls_that_version(backend: Backend) -> None:
    assert complete(backend, "torchserve/llama/2.0") == ANSWER_V2
    assert backend.last.path == "/predictions/llama/2.0"


def test_a_model_string_with_more_slashes_is_a_bad_request(backend: Backend) -> None:
    with pytest.raises(llmctl.BadRequestError, match="'<model_name>/<version>'") as info:
        complete(backend, "torchserve/org/llama/2.0")
    assert info.value.param == "model"
    assert backend.requests == []


def test_litellm_prompt_template_keys_shape_the_prompt_and_are_not_sent(backend: Backend) -> None:
    complete(
        backend,
        initial_prompt_value="<s>",
        roles={
            "system": {"pre_message": "[INST] <<SYS>>\n", "post_message": "\n<</SYS>>\n"},
            "user": {"pre_message": "[INST] ", "post_message": " [/INST]"},
        },
        final_prompt_value="",
    )
    assert backend.last.body == {
        "prompt": "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n[INST] Hi [/INST]"
    }


def test_the_handlers_own_options_pass_through_and_the_plugins_do_not(backend: Backend) -> None:
    complete(
        backend,
        top_k=40,
        repetition_penalty=1.1,
        do_sample=True,
        torchserve_input_field="text_input",
    )
    assert backend.last.body == {
        "text_input": DEFAULT_PROMPT,
        "top_k": 40,
        "repetition_penalty": 1.1,
        "do_sample": True,
    }


def test_param_names_rename_or_leave_out_what_the_handler_reads(backend: Backend) -> None:
    # TorchServe's vllm_handler.py reads vLLM's SamplingParams names: max_tokens, not
    # max_new_tokens; a handler may not want a seed at all.
    names = {"max_tokens": "max_tokens", "seed": None}
    complete(backend, max_completion_tokens=9, seed=1, torchserve_param_names=names)
    assert backend.last.body == {"prompt": DEFAULT_PROMPT, "max_tokens": 9}


@pytest.mark.parametrize(
    ("options", "field"),
    [
        pytest.param({}, "messages", id="default-field"),
        pytest.param({"torchserve_input_field": "conversation"}, "conversation", id="own-field"),
    ],
)
def test_send_messages_sends_the_messages_as_they_are(
    backend: Backend, options: dict[str, Any], field: str
) -> None:
    complete(backend, torchserve_send_messages=True, temperature=0.0, **options)
    assert backend.last.body == {field: MESSAGES, "temperature": 0.0}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"torchserve_send_messages": "yes"}, "true or false", id="send-messages"),
        pytest.param({"torchserve_input_field": ""}, "non-empty string", id="input-field"),
        pytest.param({"torchserve_output_field": "a..b"}, "joined by dots", id="output-field"),
        pytest.param({"torchserve_stream_format": "sse"}, "'text' or 'json'", id="stream-format"),
        pytest.param({"torchserve_param_names": {"top_k": "k"}}, "a mapping of", id="names"),
        pytest.param({"torchserve_param_names": {"seed": 1}}, "a mapping of", id="name-type"),
        pytest.param({"stop": [1]}, "list of strings", id="stop"),
    ],
)
def test_malformed_options_are_bad_requests_naming_the_option(
    backend: Backend, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(llmctl.BadRequestError, match=message):
        complete(backend, **options)
    assert backend.requests == []


def test_an_openai_param_torchserve_has_no_place_for_is_refused_or_dropped(
    backend: Backend,
) -> None:
    with pytest.raises(llmctl.UnsupportedParamsError) as info:
        complete(backend, presence_penalty=0.5)
    assert info.value.param == "presence_penalty"
    assert complete(backend, presence_penalty=0.5, drop_params=True) == ANSWER
    assert backend.last.body == {"prompt": DEFAULT_PROMPT}


# -- the answer -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "options"),
    [
        pytest.param("torchserve/llama", {}, id="plain-text"),
        pytest.param("torchserve/hf", {}, id="list-of-generated_text"),
        pytest.param(
            "torchserve/nested", {"torchserve_output_field": "outputs.0.text"}, id="output-field"
        ),
    ],
)
def test_each_answer_shape_gives_the_text_sync_and_async(
    backend: Backend, model: str, options: dict[str, Any]
) -> None:
    assert complete(backend, model, **options) == ANSWER
    response = asyncio.run(llmctl.acompletion(model, MESSAGES, api_base=backend.url, **options))
    assert response.choices[0].message.content == ANSWER
    assert "torchserve_output_field" not in backend.last.body


def test_json_pieces_of_a_handler_that_always_streams_make_one_answer(backend: Backend) -> None:
    assert complete(backend, "torchserve/vllm") == ANSWER


def test_a_json_answer_without_the_usual_text_fields_is_passed_on_as_it_is(
    backend: Backend,
) -> None:
    answer = complete(backend, "torchserve/nested")
    assert answer is not None and json.loads(answer)["outputs"][0]["text"] == ANSWER


def test_an_output_field_that_is_not_there_names_the_missing_key(backend: Backend) -> None:
    with pytest.raises(llmctl.BadGatewayError, match="has no 'generations'"):
        complete(backend, "torchserve/nested", torchserve_output_field="generations.0")


def test_usage_is_zero_since_torchserve_counts_nothing(backend: Backend) -> None:
    usage = llmctl.completion("torchserve/llama", MESSAGES, api_base=backend.url).usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (0, 0, 0)
