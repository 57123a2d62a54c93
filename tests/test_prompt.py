"""``llmctl.prompt``: chat messages as one prompt, with LiteLLM's custom prompt template."""

from __future__ import annotations

from typing import Any

import pytest

from llmctl.exceptions import BadRequestError
from llmctl.prompt import DEFAULT_TEMPLATE, TEMPLATE_PARAMS, PromptTemplate, message_text

CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "Bye"},
]

#: LiteLLM's Llama 2 example, as a config's litellm_params give it.
LLAMA2: dict[str, Any] = {
    "roles": {
        "system": {"pre_message": "[INST] <<SYS>>\n", "post_message": "\n<</SYS>>\n [/INST]\n"},
        "user": {"pre_message": "[INST] ", "post_message": " [/INST]\n"},
        "assistant": {"post_message": "\n"},
    },
    "bos_token": "<s>",
    "eos_token": "</s>",
}


def test_default_template_is_a_transcript_cueing_the_assistant() -> None:
    assert DEFAULT_TEMPLATE.render(CHAT) == (
        "system: Be brief.\nuser: Hi\nassistant: Hello!\nuser: Bye\nassistant:"
    )


def test_default_template_labels_a_role_it_does_not_list() -> None:
    messages = [{"role": "developer", "content": "Use tools."}, {"role": "tool", "content": "42"}]
    assert DEFAULT_TEMPLATE.render(messages) == "developer: Use tools.\ntool: 42\nassistant:"


def test_a_message_without_role_is_a_user_message() -> None:
    assert DEFAULT_TEMPLATE.render([{"content": "Hi"}]) == "user: Hi\nassistant:"


def test_params_without_template_keys_give_the_default() -> None:
    assert PromptTemplate.from_params({"max_tokens": 5}) is DEFAULT_TEMPLATE


def test_params_without_template_keys_give_the_providers_own_default() -> None:
    mine = PromptTemplate(roles={"user": ("Q: ", "\n")}, final_prompt_value="A:")
    assert PromptTemplate.from_params({"temperature": 0.1}, default=mine) is mine


def test_template_params_are_litellms_keys() -> None:
    assert {"roles", "initial_prompt_value", "final_prompt_value", "bos_token", "eos_token"} == (
        TEMPLATE_PARAMS
    )


def test_a_litellm_template_renders_as_litellm_renders_it() -> None:
    params = {
        "initial_prompt_value": "<s>",
        "roles": {
            "system": {"pre_message": "[INST] <<SYS>>\n", "post_message": "\n<</SYS>>\n"},
            "user": {"pre_message": "[INST] ", "post_message": " [/INST]"},
            "assistant": {"pre_message": " ", "post_message": " </s>"},
        },
        "final_prompt_value": "",
    }
    prompt = PromptTemplate.from_params(params).render(CHAT)
    assert prompt == (
        "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n[INST] Hi [/INST] Hello! </s>[INST] Bye [/INST]"
    )


def test_keys_a_call_leaves_out_are_empty_not_the_defaults() -> None:
    template = PromptTemplate.from_params({"roles": {"user": {"pre_message": "Q: "}}})
    # no "assistant:" cue from the default, nothing around the unlisted system role
    assert template.render(CHAT[:2]) == "Be brief.Q: Hi"


def test_final_prompt_value_alone_replaces_the_whole_template() -> None:
    template = PromptTemplate.from_params({"final_prompt_value": "A:"})
    assert template.render(CHAT[1:2]) == "HiA:"


def test_bos_token_opens_the_prompt_and_every_exchange_after_an_answer() -> None:
    prompt = PromptTemplate.from_params(LLAMA2).render(CHAT)
    assert prompt == (
        "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n [/INST]\n"
        "[INST] Hi [/INST]\n"
        "Hello!\n</s>"
        "<s>[INST] Bye [/INST]\n"
    )


def test_bos_token_comes_before_the_initial_prompt_value() -> None:
    template = PromptTemplate.from_params({"bos_token": "<s>", "initial_prompt_value": "### "})
    assert template.render([{"role": "user", "content": "Hi"}]) == "<s>### Hi"


def test_eos_token_follows_each_assistant_message_not_the_prompt() -> None:
    template = PromptTemplate.from_params({"eos_token": "</s>", "final_prompt_value": ">"})
    messages = [
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "assistant", "content": "c"},
        {"role": "user", "content": "d"},
    ]
    assert template.render(messages) == "ab</s>c</s>d>"


def test_a_role_without_pre_or_post_message_gets_empty_text() -> None:
    template = PromptTemplate.from_params({"roles": {"user": {"post_message": "|"}}})
    assert template.render([{"role": "user", "content": "Hi"}]) == "Hi|"


def test_an_explicit_none_is_an_empty_value() -> None:
    template = PromptTemplate.from_params(
        {"roles": None, "final_prompt_value": None, "eos_token": ""}
    )
    assert template == PromptTemplate(roles={}, label_unknown_roles=False)


def test_content_parts_are_joined_and_non_text_parts_left_out() -> None:
    message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is "},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
            {"type": "text", "text": "this?"},
            "not a part",
        ],
    }
    assert message_text(message) == "What is this?"
    assert DEFAULT_TEMPLATE.render([message]) == "user: What is this?\nassistant:"


@pytest.mark.parametrize(
    ("content", "text"),
    [
        pytest.param(None, "", id="none"),
        pytest.param("plain", "plain", id="string"),
        pytest.param([], "", id="no-parts"),
        pytest.param(42, "42", id="number"),
    ],
)
def test_message_text_of_each_content_shape(content: Any, text: str) -> None:
    assert message_text({"role": "user", "content": content}) == text


def test_a_message_without_content_is_empty_text() -> None:
    assistant_calling_a_tool = {"role": "assistant", "tool_calls": [{"id": "1"}]}
    assert message_text(assistant_calling_a_tool) == ""


def test_a_template_built_in_code_labels_unknown_roles_unless_told_not_to() -> None:
    labelled = PromptTemplate(roles={"user": ("", "\n")})
    bare = PromptTemplate(roles={"user": ("", "\n")}, label_unknown_roles=False)
    messages = [{"role": "tool", "content": "42"}, {"role": "user", "content": "so?"}]
    assert labelled.render(messages) == "tool: 42\nso?\n"
    assert bare.render(messages) == "42so?\n"


@pytest.mark.parametrize(
    ("params", "words"),
    [
        pytest.param(
            {"roles": ["user"]},
            "prompt template roles must be a mapping of role to {pre_message, post_message}, "
            "got ['user']",
            id="roles-not-a-mapping",
        ),
        pytest.param(
            {"roles": {"user": "[INST]"}},
            "prompt template roles.user must be a mapping with pre_message, post_message, "
            "got '[INST]'",
            id="role-not-a-mapping",
        ),
        pytest.param(
            {"roles": {"user": {"pre_message": 1}}},
            "prompt template roles.user must be string pre_message and post_message, "
            "got {'pre_message': 1}",
            id="pre-message-not-a-string",
        ),
        pytest.param(
            {"roles": {"assistant": {"post_message": ["</s>"]}}},
            "prompt template roles.assistant must be string pre_message and post_message",
            id="post-message-not-a-string",
        ),
        pytest.param(
            {"initial_prompt_value": 0},
            "prompt template initial_prompt_value must be a string, got 0",
            id="initial-not-a-string",
        ),
        pytest.param(
            {"final_prompt_value": {"text": "A:"}},
            "prompt template final_prompt_value must be a string, got {'text': 'A:'}",
            id="final-not-a-string",
        ),
        pytest.param(
            {"bos_token": True},
            "prompt template bos_token must be a string, got True",
            id="bos-not-a-string",
        ),
        pytest.param(
            {"eos_token": 2},
            "prompt template eos_token must be a string, got 2",
            id="eos-not-a-string",
        ),
    ],
)
def test_a_bad_shape_is_refused_naming_the_key_and_the_way_out(
    params: dict[str, Any], words: str
) -> None:
    with pytest.raises(BadRequestError) as caught:
        PromptTemplate.from_params(params)
    assert words in str(caught.value)
    assert "see LiteLLM's custom prompt template" in str(caught.value)
    assert caught.value.param == words.split()[2]
    assert caught.value.status_code == 400


def test_a_message_that_is_not_a_dict_is_refused_naming_its_index() -> None:
    with pytest.raises(BadRequestError, match=r"messages\[1\] must be a message dict"):
        DEFAULT_TEMPLATE.render([{"role": "user", "content": "Hi"}, "Hi again"])  # type: ignore[list-item]
