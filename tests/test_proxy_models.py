"""A config entry becomes a call; a requested name finds its entry, exact names first."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import llmctl
from conftest import MESSAGES
from llmctl.exceptions import NotFoundError
from llmctl.proxy.config import ModelEntry, ModelParams, parse_config
from llmctl.proxy.models import Deployment, ModelMap
from llmctl.proxy.server import plan
from llmctl.registry import registry
from llmctl.request import DEFAULT_TIMEOUT


@pytest.fixture(autouse=True)
def _restore_globals(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Undo what plan() sets: the registry's config providers and llmctl.drop_params."""
    monkeypatch.setattr(llmctl, "drop_params", llmctl.drop_params)
    yield
    registry.configure([])


def entry(model: str = "acme/m", model_name: str = "m", **params: Any) -> ModelEntry:
    model_info = params.pop("model_info", None)
    return ModelEntry.model_validate(
        {
            "model_name": model_name,
            "litellm_params": {"model": model, **params},
            "model_info": model_info,
        }
    )


def deployment(model: str = "acme/m", model_name: str = "m", **params: Any) -> Deployment:
    return Deployment.from_entry(
        entry(model, model_name, **params), where="config.yaml model_list[0]"
    )


def model_map(*names: tuple[str, str]) -> ModelMap:
    """``model_map(("public-name", "provider/model"), ...)``."""
    return ModelMap(deployment(model, name) for name, model in names)


# -- Deployment.from_entry ----------------------------------------------------------------------


def test_api_base_api_key_and_timeout_become_call_arguments() -> None:
    d = deployment(api_base="http://backend.test/v1", api_key="sk-backend", timeout=30)
    assert d.arguments == {
        "api_base": "http://backend.test/v1",
        "api_key": "sk-backend",
        "timeout": 30.0,
    }
    assert (d.model_name, d.model, d.timeout) == ("m", "acme/m", 30.0)


def test_extra_keys_become_call_arguments_and_litellm_params() -> None:
    d = deployment(api_key="sk-backend", context_id="ctx-42", region="eu")
    assert d.arguments["context_id"] == "ctx-42"  # a keyword of the call: optional_params
    assert d.arguments["region"] == "eu"
    assert d.arguments["litellm_params"] == {"context_id": "ctx-42", "region": "eu"}


def test_no_extra_keys_means_no_litellm_params_argument() -> None:
    assert "litellm_params" not in deployment(api_key="sk-backend").arguments


def test_llmctl_call_keywords_in_the_entry_stay_call_arguments() -> None:
    d = deployment(api_version="2024-06-01", max_retries=2, context_id="ctx-42")
    assert d.arguments["api_version"] == "2024-06-01"
    assert d.arguments["max_retries"] == 2
    assert d.arguments["litellm_params"] == {"context_id": "ctx-42"}


def test_model_and_stream_timeout_are_not_call_arguments() -> None:
    d = deployment(stream_timeout=5)
    assert "model" not in d.arguments
    assert "stream_timeout" not in d.arguments
    assert d.stream_timeout == 5


def test_router_keys_are_ignored_and_listed() -> None:
    d = deployment(rpm=6, tpm=1000, weight=2, order=1, max_parallel_requests=4, context_id="c")
    assert d.ignored == tuple(
        f"config.yaml model_list[0].litellm_params.{key}"
        for key in ("rpm", "tpm", "weight", "order", "max_parallel_requests")
    )
    for key in ("rpm", "tpm", "weight", "order", "max_parallel_requests"):
        assert key not in d.arguments
    assert d.arguments["litellm_params"] == {"context_id": "c"}


def test_model_info_is_passed_through() -> None:
    d = deployment(model_info={"mode": "chat", "base_model": "llama3"})
    assert d.arguments["model_info"] == {"mode": "chat", "base_model": "llama3"}
    assert "model_info" not in deployment().arguments


@pytest.mark.parametrize(
    ("params", "default", "timeout", "stream_timeout"),
    [
        pytest.param({}, None, DEFAULT_TIMEOUT, DEFAULT_TIMEOUT, id="llmctl-default"),
        pytest.param({}, 45, 45, 45, id="request_timeout-default"),
        pytest.param({"timeout": 30}, 45, 30, 30, id="entry-timeout-beats-default"),
        pytest.param({"timeout": 30, "stream_timeout": 5}, None, 30, 5, id="stream_timeout"),
        pytest.param({"stream_timeout": 5}, 45, 45, 5, id="stream_timeout-only"),
    ],
)
def test_timeouts(
    params: dict[str, Any], default: float | None, timeout: float, stream_timeout: float
) -> None:
    d = Deployment.from_entry(entry(**params), where="w", default_timeout=default)
    assert (d.timeout, d.stream_timeout) == (timeout, stream_timeout)
    assert d.arguments["timeout"] == timeout


# -- ModelMap.resolve ---------------------------------------------------------------------------


def test_exact_name_beats_wildcard() -> None:
    models = model_map(("*", "*"), ("ollama/*", "ollama/*"), ("ollama/llama3", "acme/llama"))
    served, target = models.resolve("ollama/llama3")
    assert (served.model_name, target) == ("ollama/llama3", "acme/llama")


@pytest.mark.parametrize(
    ("requested", "wildcard", "target"),
    [
        pytest.param("ollama/llama3", "ollama/llama*", "fast/llama3", id="longest"),
        pytest.param("ollama/mistral", "ollama/*", "ollama/mistral", id="shorter"),
        pytest.param("groq/mixtral", "*", "groq/mixtral", id="catch-all"),
    ],
)
def test_longest_wildcard_prefix_wins(requested: str, wildcard: str, target: str) -> None:
    models = model_map(("*", "*"), ("ollama/llama*", "fast/llama*"), ("ollama/*", "ollama/*"))
    served, called = models.resolve(requested)
    assert (served.model_name, called) == (wildcard, target)


@pytest.mark.parametrize("requested", ["x/y", "acme/org/model-7b"])
def test_catch_all_maps_a_provider_model_to_itself(requested: str) -> None:
    assert model_map(("*", "*")).resolve(requested)[1] == requested


def test_catch_all_does_not_serve_a_name_without_provider() -> None:
    with pytest.raises(NotFoundError):
        model_map(("*", "*")).resolve("gpt-4o")


def test_alias_wildcard_maps_the_rest_of_the_name_under_its_model() -> None:
    served, target = model_map(("fast/*", "ollama/*")).resolve("fast/llama3")
    assert (served.model_name, target) == ("fast/*", "ollama/llama3")


def test_wildcard_does_not_serve_its_bare_prefix() -> None:
    with pytest.raises(NotFoundError):
        model_map(("fast/*", "ollama/*")).resolve("fast/")


def test_unknown_name_is_404_listing_served_names_and_the_closest() -> None:
    models = model_map(("gpt-4o", "openai/gpt-4o"), ("my-model", "acme/m"))
    with pytest.raises(NotFoundError) as info:
        models.resolve("gpt-4")
    error = info.value
    assert error.message == (
        "the model 'gpt-4' does not exist on this server (add it to model_list in "
        "config.yaml); did you mean 'gpt-4o'? Served: gpt-4o, my-model."
    )
    assert (error.status_code, error.code, error.param) == (404, "model_not_found", "model")


def test_unknown_name_beside_wildcards_lists_them_without_advice() -> None:
    models = model_map(("gpt-4o", "openai/gpt-4o"), ("ollama/*", "ollama/*"))
    with pytest.raises(NotFoundError) as info:
        models.resolve("zzz")
    assert info.value.message == (
        "the model 'zzz' does not exist on this server; Served: gpt-4o, ollama/*."
    )


def test_empty_map_serves_nothing_and_says_so() -> None:
    with pytest.raises(NotFoundError) as info:
        ModelMap([]).resolve("m")
    assert info.value.message.endswith("Served: none.")


@pytest.mark.parametrize(
    ("model_name", "model", "is_wildcard", "provider"),
    [
        pytest.param("m", "acme/m", False, "acme", id="exact"),
        pytest.param("ollama/*", "ollama/*", True, "ollama", id="provider-wildcard"),
        pytest.param("*", "*", True, None, id="catch-all"),
    ],
)
def test_wildcard_and_provider_of_a_deployment(
    model_name: str, model: str, is_wildcard: bool, provider: str | None
) -> None:
    d = Deployment(model_name, model)
    assert (d.is_wildcard, d.provider) == (is_wildcard, provider)


def test_wildcard_name_with_a_fixed_model_calls_that_model_as_in_litellm() -> None:
    [config_entry] = parse_config(
        {"model_list": [{"model_name": "fast/*", "litellm_params": {"model": "ollama/llama3"}}]}
    ).config.model_list
    models = ModelMap([Deployment.from_entry(config_entry, where="config model_list[0]")])
    assert models.resolve("fast/anything")[1] == "ollama/llama3"


# -- plan(): a config becomes deployments, registered handlers and warnings ---------------------

RECORDER = """
from llmctl import CustomLLM, ModelResponse


class Recorder(CustomLLM):
    def __init__(self):
        self.calls = []

    def completion(self, *args, **kwargs):
        self.calls.append(kwargs)
        return ModelResponse(choices=[{"message": {"content": "recorded"}}])


recorder = Recorder()
"""


@pytest.fixture
def handler_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder holding ``recorder_handler.py``; the module is forgotten afterwards."""
    (tmp_path / "recorder_handler.py").write_text(textwrap.dedent(RECORDER))
    yield tmp_path
    sys.modules.pop("recorder_handler", None)


def test_handler_receives_extra_keys_in_optional_params_and_litellm_params(
    handler_dir: Path,
) -> None:
    loaded = parse_config(
        {
            "model_list": [
                {
                    "model_name": "ctx-model",
                    "litellm_params": {
                        "model": "recorder/backend-model",
                        "api_key": "sk-backend",
                        "context_id": "ctx-42",
                    },
                }
            ],
            "litellm_settings": {
                "custom_provider_map": [
                    {"provider": "recorder", "custom_handler": "recorder_handler.recorder"}
                ]
            },
        },
        base_dir=handler_dir,
    )
    server = plan(loaded)
    assert server.warnings == []
    assert server.providers == ["recorder"]
    deployment, target = server.state.models.resolve("ctx-model")
    response = llmctl.completion(deployment.target("ctx-model"), MESSAGES, **deployment.arguments)
    assert response.choices[0].message.content == "recorded"
    [call] = loaded.custom_provider_map[0]["custom_handler"].calls
    assert call["model"] == "backend-model"
    assert call["api_key"] == "sk-backend"
    assert call["optional_params"]["context_id"] == "ctx-42"
    assert call["litellm_params"]["context_id"] == "ctx-42"
    assert target == "recorder/backend-model"


def test_plan_warns_of_ignored_settings_and_missing_providers(handler_dir: Path) -> None:
    loaded = parse_config(
        {
            "model_list": [
                {"model_name": "gpt-4o", "litellm_params": {"model": "openai/gpt-4o", "rpm": 6}},
                {"model_name": "mine", "litellm_params": {"model": "recorder/m"}},
            ],
            "litellm_settings": {
                "success_callback": ["langfuse"],
                "custom_provider_map": [
                    {"provider": "recorder", "custom_handler": "recorder_handler.recorder"}
                ],
            },
            "router_settings": {"routing_strategy": "least-busy"},
        },
        base_dir=handler_dir,
    )
    server = plan(loaded)
    assert server.providers == ["recorder"]
    assert server.warnings[0] == (
        "config: llmctl ignores these settings: router_settings, "
        "litellm_settings.success_callback, config model_list[0].litellm_params.rpm"
    )
    assert server.warnings[1].startswith(
        "model 'gpt-4o' (config model_list[0]) will answer an error: no provider 'openai'"
    )
    assert len(server.warnings) == 2


def test_plan_of_an_empty_config_warns_that_nothing_can_be_called() -> None:
    server = plan(parse_config({}))
    assert len(server.state.models) == 0
    assert server.warnings == ["config: model_list is empty, so no model can be called"]


def test_plan_applies_general_and_litellm_settings() -> None:
    server = plan(
        parse_config(
            {
                "model_list": [
                    {"model_name": "m", "litellm_params": {"model": "acme/m"}},
                    {"model_name": "n", "litellm_params": {"model": "acme/n", "timeout": 5}},
                ],
                "litellm_settings": {"drop_params": True, "request_timeout": 90},
                "general_settings": {"master_key": "sk-master", "max_request_size_mb": 2},
            }
        )
    )
    assert llmctl.drop_params is True
    assert server.state.master_key == "sk-master"
    assert server.state.max_body == 2 * 1024 * 1024
    assert [d.timeout for d in server.state.models.deployments] == [90, 5]


def test_plan_without_a_config_serves_every_provider_model() -> None:
    server = plan(None)
    served, target = server.state.models.resolve("acme/m")
    assert (served.model_name, target) == ("*", "acme/m")
    assert served.arguments == {"timeout": DEFAULT_TIMEOUT}


def test_of_entries_sharing_a_name_the_first_serves() -> None:
    entries = [
        ModelEntry(model_name="gpt", litellm_params=ModelParams(model="a/first")),
        ModelEntry(model_name="gpt", litellm_params=ModelParams(model="a/second")),
    ]
    models = ModelMap(Deployment.from_entry(e, where="x") for e in entries)
    assert models.resolve("gpt")[1] == "a/first"
