"""Response types serialise to exactly OpenAI's JSON and behave as LiteLLM's do."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest
from openai.types import CreateEmbeddingResponse, ImagesResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from llmctl import (
    EmbeddingResponse,
    ImageObject,
    ImageResponse,
    ModelResponse,
    ModelResponseStream,
    Usage,
)

FULL = {
    "model": "m",
    "choices": [
        {"message": {"content": "x", "role": "assistant"}, "finish_reason": "stop", "index": 0}
    ],
    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
}


def test_model_response_dumps_the_guides_expected_keys() -> None:
    dumped = ModelResponse(**FULL).model_dump()
    assert list(dumped) == [
        "id",
        "choices",
        "created",
        "model",
        "object",
        "system_fingerprint",
        "usage",
    ]
    assert dumped["choices"][0] == {
        "finish_reason": "stop",
        "index": 0,
        "message": {"content": "x", "role": "assistant", "tool_calls": None, "function_call": None},
    }


@pytest.mark.parametrize(
    ("value", "openai_model"),
    [
        pytest.param(ModelResponse(**FULL), ChatCompletion, id="model-response"),
        pytest.param(ModelResponse(model="m"), ChatCompletion, id="default-response"),
        pytest.param(
            ModelResponse(
                choices=[
                    {
                        "message": {
                            "tool_calls": [
                                {"id": "c", "function": {"name": "f", "arguments": {"a": 1}}}
                            ]
                        },
                        "finish_reason": "tool_calls",
                    }
                ],
                model="m",
            ),
            ChatCompletion,
            id="tool-calls",
        ),
        pytest.param(
            ModelResponseStream(model="m", choices=[{"delta": {"content": "x"}}]),
            ChatCompletionChunk,
            id="chunk",
        ),
        pytest.param(
            ImageResponse(created=1, data=[ImageObject(url="https://x/y.png")]),
            ImagesResponse,
            id="image",
        ),
        pytest.param(
            EmbeddingResponse(model="e", data=[{"embedding": [0.5, 0.25], "index": 0}]),
            CreateEmbeddingResponse,
            id="embedding",
        ),
    ],
)
def test_openai_models_validate_every_dump(value: Any, openai_model: Any) -> None:
    openai_model.model_validate(value.model_dump())
    openai_model.model_validate_json(value.model_dump_json())


def test_item_access_works_as_in_litellm() -> None:
    response = ModelResponse(**FULL)
    assert response["choices"][0]["message"]["content"] == "x"
    assert response["usage"]["total_tokens"] == 3
    assert response.get("model") == "m" and response.get("missing", 7) == 7
    assert "usage" in response and "missing" not in response
    response["model"] = "n"
    assert response.model == "n"
    with pytest.raises(KeyError):
        response["missing"]


def test_extra_keys_are_kept_and_dumped_only_when_set() -> None:
    with_extra = ModelResponse(choices=[{"message": {"content": "x", "reasoning_content": "r"}}])
    assert with_extra.choices[0].message.get("reasoning_content") == "r"
    assert with_extra.model_dump()["choices"][0]["message"]["reasoning_content"] == "r"
    assert "reasoning_content" not in ModelResponse(**FULL).model_dump()["choices"][0]["message"]


def test_backend_finish_reasons_map_to_openais() -> None:
    response = ModelResponse(
        choices=[{"finish_reason": "end_turn"}, {"finish_reason": "max_tokens"}]
    )
    assert [c.finish_reason for c in response.choices] == ["stop", "length"]


def test_tool_call_arguments_given_as_an_object_become_json_text() -> None:
    response = ModelResponse(
        choices=[
            {
                "message": {
                    "tool_calls": [
                        {"id": "c", "function": {"name": "f", "arguments": {"city": "Paris"}}}
                    ]
                }
            }
        ]
    )
    calls = response.choices[0].message.tool_calls
    assert calls is not None and calls[0].function.arguments == '{"city": "Paris"}'


def test_usage_total_is_filled_from_its_parts() -> None:
    assert Usage(prompt_tokens=3, completion_tokens=4).total_tokens == 7
    assert Usage(prompt_tokens=3, completion_tokens=4, total_tokens=9).total_tokens == 9


def test_ids_are_unique_uuid4_chat_ids() -> None:
    ids = {ModelResponse().id for _ in range(100)}
    assert len(ids) == 100
    for value in ids:
        prefix, *groups = value.split("-")
        assert prefix == "chatcmpl" and [len(g) for g in groups] == [8, 4, 4, 4, 12]
        assert groups[2][0] == "4" and groups[3][0] in "89ab"


def test_none_values_mean_defaults_as_in_litellm() -> None:
    response = ModelResponse(
        id=None,
        created=None,
        choices=[
            {
                "finish_reason": None,
                "message": {
                    "tool_calls": [{"id": None, "function": {"name": "f", "arguments": "{}"}}]
                },
            }
        ],
        usage={"prompt_tokens": None, "completion_tokens": 2, "total_tokens": None},
    )
    assert response.id.startswith("chatcmpl-") and response.created > 0
    assert response.choices[0].finish_reason == "stop"
    calls = response.choices[0].message.tool_calls
    assert calls is not None and calls[0].id.startswith("call_")
    assert (response.usage.prompt_tokens, response.usage.total_tokens) == (0, 2)


# -- a handler's model_response: built on first use ------------------------------------------


def _fresh() -> ModelResponse:
    from llmctl.types.responses import unbuilt_model_response

    return unbuilt_model_response()


def _defaults(response: ModelResponse) -> dict[str, Any]:
    dumped = response.model_dump()
    assert dumped.pop("id").startswith("chatcmpl-")
    assert dumped.pop("created") > 0
    return dumped


def test_an_unbuilt_model_response_is_one_before_and_after_first_use() -> None:
    response = _fresh()
    assert isinstance(response, ModelResponse)
    assert response.choices[0].message.role == "assistant"
    assert type(response) is ModelResponse
    assert _defaults(response) == _defaults(ModelResponse())
    assert response.model_fields_set == set()


@pytest.mark.parametrize(
    "first_use",
    [
        pytest.param(lambda r: r.model_dump(), id="model_dump"),
        pytest.param(lambda r: r.__pydantic_serializer__.to_json(r), id="serializer"),
        pytest.param(lambda r: ModelResponse.__pydantic_serializer__.to_json(r), id="class-ser"),
        pytest.param(lambda r: repr(r), id="repr"),
        pytest.param(lambda r: r["choices"], id="item"),
        pytest.param(lambda r: "choices" in r and dict(r), id="contains-and-iter"),
        pytest.param(lambda r: vars(r), id="vars"),
        pytest.param(lambda r: r == ModelResponse(), id="eq"),
        pytest.param(lambda r: ModelResponse() == r, id="eq-reflected"),
        pytest.param(lambda r: r.model_copy(), id="model_copy"),
        pytest.param(lambda r: copy.copy(r), id="copy"),
        pytest.param(lambda r: copy.deepcopy(r), id="deepcopy"),
        pytest.param(lambda r: pickle.dumps(r), id="pickle"),
    ],
)
def test_an_unbuilt_model_response_is_built_by_any_first_use(first_use: Any) -> None:
    response = _fresh()
    result = first_use(response)
    assert type(response) is ModelResponse
    assert _defaults(response) == _defaults(ModelResponse())
    if isinstance(result, ModelResponse) and result is not response:  # a copy
        assert result == response and type(result.choices) is list
        assert result.model_dump() == response.model_dump()


def test_an_unbuilt_model_response_written_first_keeps_what_was_written() -> None:
    response = _fresh()
    response.model = "m"
    response.custom_key = 1  # an extra key, as LiteLLM's handlers set them
    assert (response.model, response.custom_key) == ("m", 1)
    assert response.model_fields_set == {"model", "custom_key"}
    assert response.model_dump()["custom_key"] == 1


def test_an_unbuilt_model_response_validated_as_it_is_serialises_in_full() -> None:
    response = _fresh()
    assert ModelResponse.model_validate(response) is response
    assert json.loads(ModelResponse.__pydantic_serializer__.to_json(response))["object"] == (
        "chat.completion"
    )


def test_each_unbuilt_model_response_is_its_own() -> None:
    first, second = _fresh(), _fresh()
    first.choices[0].message.content = "mine"
    assert second.choices[0].message.content is None
    assert first.id != second.id
    assert pickle.loads(pickle.dumps(first)) == first
