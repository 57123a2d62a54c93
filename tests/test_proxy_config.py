"""config.yaml loads as LiteLLM's does, and every bad value is named by its YAML path."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmctl.proxy.config import ConfigError, LoadedConfig, import_handler, load_config

EXAMPLES = Path(__file__).parent.parent / "examples"

HANDLER = """
from llmctl import CustomLLM, ModelResponse


class MyCustomLLM(CustomLLM):
    def completion(self, *args, **kwargs):
        return ModelResponse()


my_custom_llm = MyCustomLLM()
"""


@pytest.fixture(autouse=True)
def _environ() -> Iterator[None]:
    """os.environ as it was, whatever a config's environment_variables section set."""
    saved = os.environ.copy()
    yield
    for name in set(os.environ) - set(saved):
        del os.environ[name]
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def _unload_handlers(tmp_path: Path) -> Iterator[None]:
    """Forget the handler modules a test imported from tmp_path or examples/."""
    yield
    roots = (str(tmp_path), str(EXAMPLES))
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(roots):
            del sys.modules[name]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> LoadedConfig:
    """Load ``text`` as tmp_path/config.yaml."""
    return load_config(write(tmp_path / "config.yaml", text))


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    return str(info.value)


def handler_config(custom_handler: str) -> str:
    return f"""
    model_list:
      - model_name: my-custom-model
        litellm_params:
          model: my-custom-llm/my-model
    litellm_settings:
      custom_provider_map:
        - {{"provider": "my-custom-llm", "custom_handler": {custom_handler}}}
    """


def handler_file(loaded: LoadedConfig) -> str:
    """The file the handler's class was defined in."""
    handler = loaded.custom_provider_map[0]["custom_handler"]
    return str(type(handler).completion.__code__.co_filename)


# -- the feature guide's config -----------------------------------------------------------------


def test_feature_guide_config_loads_unchanged() -> None:
    loaded = load_config(EXAMPLES / "config.yaml")
    assert [(e.model_name, e.litellm_params.model) for e in loaded.config.model_list] == [
        ("test-model", "openai/text-embedding-ada-002"),
        ("my-custom-model", "my-custom-llm/my-model"),
    ]
    [entry] = loaded.custom_provider_map
    assert entry["provider"] == "my-custom-llm"
    handler = entry["custom_handler"]
    module = sys.modules[type(handler).__module__]
    assert type(handler) is module.MyCustomLLM
    assert handler is module.my_custom_llm
    assert module.__file__ == str(EXAMPLES / "custom_handler.py")
    assert loaded.handler_paths == {"my-custom-llm": "custom_handler.my_custom_llm"}
    assert loaded.config.ignored_settings() == []


def test_copied_feature_guide_config_uses_the_handler_beside_the_copy(tmp_path: Path) -> None:
    for name in ("config.yaml", "custom_handler.py"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    original = load_config(EXAMPLES / "config.yaml")
    copy = load_config(tmp_path / "config.yaml")
    assert handler_file(original) == str(EXAMPLES / "custom_handler.py")
    assert handler_file(copy) == str(tmp_path / "custom_handler.py")
    assert type(copy.custom_provider_map[0]["custom_handler"]).__name__ == "MyCustomLLM"
    assert [e.model_name for e in copy.config.model_list] == ["test-model", "my-custom-model"]


# -- custom_handler: beside the config first, else importable -----------------------------------


def test_handler_beside_the_config_beats_an_importable_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = write(tmp_path / "site" / "handler_beats.py", HANDLER)
    monkeypatch.syspath_prepend(str(installed.parent))
    beside = write(tmp_path / "conf" / "handler_beats.py", HANDLER)
    write(tmp_path / "conf" / "config.yaml", handler_config("handler_beats.my_custom_llm"))
    loaded = load_config(tmp_path / "conf" / "config.yaml")
    assert handler_file(loaded) == str(beside)


def test_handler_not_beside_the_config_is_imported_from_sys_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    installed = write(tmp_path / "site" / "handler_installed.py", HANDLER)
    monkeypatch.syspath_prepend(str(installed.parent))
    write(tmp_path / "conf" / "config.yaml", handler_config("handler_installed.my_custom_llm"))
    loaded = load_config(tmp_path / "conf" / "config.yaml")
    assert handler_file(loaded) == str(installed)
    assert loaded.handler_paths == {"my-custom-llm": "handler_installed.my_custom_llm"}


def test_dotted_handler_path_is_looked_for_in_a_folder_beside_the_config(tmp_path: Path) -> None:
    module = write(tmp_path / "pkg_dotted" / "handlers.py", HANDLER)
    loaded = load(tmp_path, handler_config("pkg_dotted.handlers.my_custom_llm"))
    assert handler_file(loaded) == str(module)


def test_handler_may_import_a_helper_beside_it(tmp_path: Path) -> None:
    write(tmp_path / "helper_beside.py", "GREETING = 'hello from the helper'\n")
    write(
        tmp_path / "handler_with_helper.py",
        HANDLER + "from helper_beside import GREETING\nmy_custom_llm.greeting = GREETING\n",
    )
    path_before = list(sys.path)
    loaded = load(tmp_path, handler_config("handler_with_helper.my_custom_llm"))
    assert loaded.custom_provider_map[0]["custom_handler"].greeting == "hello from the helper"
    assert sys.path == path_before  # the config's folder was on sys.path only while importing


def test_missing_handler_module_names_the_file_looked_for(tmp_path: Path) -> None:
    message = error_of(tmp_path, handler_config("no_such_handler.my_custom_llm"))
    assert message == (
        "config.yaml: litellm_settings.custom_provider_map[0].custom_handler: no module "
        f"'no_such_handler' (looked for {tmp_path / 'no_such_handler.py'} or an importable "
        "module); put the handler's file beside the config, or install its package"
    )


def test_missing_handler_module_without_a_config_folder_names_no_file() -> None:
    with pytest.raises(ConfigError) as info:
        import_handler("no_such_handler.my_custom_llm", None, "here")
    assert str(info.value).startswith(
        "here: no module 'no_such_handler' (looked for an importable module)"
    )


def test_handler_module_raising_on_import_names_the_exception(tmp_path: Path) -> None:
    write(tmp_path / "handler_raising.py", "raise RuntimeError('no backend configured')\n")
    message = error_of(tmp_path, handler_config("handler_raising.my_custom_llm"))
    assert message == (
        "config.yaml: litellm_settings.custom_provider_map[0].custom_handler: importing "
        "'handler_raising' raised RuntimeError: no backend configured"
    )
    assert "handler_raising" not in sys.modules  # not left half-imported


def test_handler_importing_a_missing_dependency_names_the_dependency(tmp_path: Path) -> None:
    write(tmp_path / "handler_needs_dep.py", "import llmctl_test_not_installed\n")
    message = error_of(tmp_path, handler_config("handler_needs_dep.my_custom_llm"))
    assert message == (
        "config.yaml: litellm_settings.custom_provider_map[0].custom_handler: importing "
        "'handler_needs_dep' failed: No module named 'llmctl_test_not_installed'"
    )


def test_missing_handler_attribute_suggests_the_close_name(tmp_path: Path) -> None:
    write(tmp_path / "handler_typo.py", HANDLER)
    message = error_of(tmp_path, handler_config("handler_typo.my_custom_lm"))
    assert message == (
        "config.yaml: litellm_settings.custom_provider_map[0].custom_handler: module "
        "'handler_typo' has no 'my_custom_lm'; did you mean 'my_custom_llm'?"
    )


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("custom_handler", id="no-dot"),
        pytest.param(".my_custom_llm", id="no-module"),
        pytest.param("custom_handler.", id="no-attribute"),
    ],
)
def test_handler_path_not_module_dot_attribute_is_refused_with_an_example(
    tmp_path: Path, value: str
) -> None:
    message = error_of(tmp_path, handler_config(repr(value)))
    assert message == (
        f"config.yaml: litellm_settings.custom_provider_map[0].custom_handler: {value!r} is not "
        "'module.attribute'; write it as, for example, custom_handler.my_custom_llm "
        "(my_custom_llm in custom_handler.py beside the config)"
    )


def test_provider_name_with_a_slash_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "handler_slash.py", HANDLER)
    message = error_of(
        tmp_path,
        """
        litellm_settings:
          custom_provider_map:
            - {provider: my/llm, custom_handler: handler_slash.my_custom_llm}
        """,
    )
    assert message.startswith(
        "config.yaml: litellm_settings.custom_provider_map[0].provider: string should match pattern"
    )


# -- os.environ/NAME and environment_variables --------------------------------------------------


def test_environ_values_are_resolved_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMCTL_TEST_API_KEY", "sk-backend")
    monkeypatch.setenv("LLMCTL_TEST_MASTER_KEY", "sk-master")
    monkeypatch.setenv("LLMCTL_TEST_BASE", "http://backend.test")
    monkeypatch.setenv("LLMCTL_TEST_REGION", "eu-west-1")
    monkeypatch.setenv("LLMCTL_TEST_TAG", "team-a")
    config = load(
        tmp_path,
        """
        model_list:
          - model_name: m
            litellm_params:
              model: acme/m
              api_key: os.environ/LLMCTL_TEST_API_KEY
              api_base: os.environ/LLMCTL_TEST_BASE
              extra_body: {region: os.environ/LLMCTL_TEST_REGION}
              tags: [fixed, os.environ/LLMCTL_TEST_TAG]
        general_settings:
          master_key: os.environ/LLMCTL_TEST_MASTER_KEY
        """,
    ).config
    params = config.model_list[0].litellm_params
    assert params.api_key == "sk-backend"
    assert params.api_base == "http://backend.test"
    assert params.model_extra == {
        "extra_body": {"region": "eu-west-1"},
        "tags": ["fixed", "team-a"],
    }
    assert config.general_settings.master_key == "sk-master"


@pytest.mark.parametrize(
    ("yaml_text", "path"),
    [
        pytest.param(
            """
            model_list:
              - model_name: m
                litellm_params: {model: acme/m, api_key: os.environ/LLMCTL_TEST_UNSET}
            """,
            "model_list[0].litellm_params.api_key",
            id="api_key",
        ),
        pytest.param(
            "general_settings: {master_key: os.environ/LLMCTL_TEST_UNSET}",
            "general_settings.master_key",
            id="master_key",
        ),
        pytest.param(
            """
            model_list:
              - model_name: m
                litellm_params: {model: acme/m, tags: [a, os.environ/LLMCTL_TEST_UNSET]}
            """,
            "model_list[0].litellm_params.tags[1]",
            id="inside-a-list",
        ),
    ],
)
def test_unset_variable_names_the_yaml_path_and_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yaml_text: str, path: str
) -> None:
    monkeypatch.delenv("LLMCTL_TEST_UNSET", raising=False)
    assert error_of(tmp_path, yaml_text).endswith(
        f"{path}: the environment variable 'LLMCTL_TEST_UNSET' is not set (the value is "
        "'os.environ/LLMCTL_TEST_UNSET'); export it, or write the value itself"
    )


def test_environment_variables_section_sets_variables_for_environ_values(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        environment_variables:
          LLMCTL_TEST_SECTION_KEY: sk-from-section
          LLMCTL_TEST_SECTION_PORT: 8080
        model_list:
          - model_name: m
            litellm_params: {model: acme/m, api_key: os.environ/LLMCTL_TEST_SECTION_KEY}
        """,
    ).config
    assert config.model_list[0].litellm_params.api_key == "sk-from-section"
    assert os.environ["LLMCTL_TEST_SECTION_KEY"] == "sk-from-section"
    assert os.environ["LLMCTL_TEST_SECTION_PORT"] == "8080"


def test_environment_variables_section_overrides_the_environment_as_in_litellm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMCTL_TEST_SECTION_KEY", "from-the-shell")
    load(tmp_path, "environment_variables: {LLMCTL_TEST_SECTION_KEY: from-the-config}")
    assert os.environ["LLMCTL_TEST_SECTION_KEY"] == "from-the-config"


# -- every error names the YAML path of the bad value -------------------------------------------


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        pytest.param(
            """
            model_list:
              - model_name: a
                litellm_params: {model: acme/a}
              - model_name: b
                litellm_params: {api_base: http://b.test}
            """,
            "config.yaml: model_list[1].litellm_params.model: required, but missing",
            id="model-missing",
        ),
        pytest.param(
            "model_list: [{model_name: b}]",
            "config.yaml: model_list[0].litellm_params: required, but missing",
            id="litellm_params-missing",
        ),
        pytest.param(
            "model_list: [{model_name: a, litellm_params: {model: acme/a, timeout: soon}}]",
            "config.yaml: model_list[0].litellm_params.timeout: input should be a valid number, "
            "unable to parse string as a number, got 'soon'",
            id="timeout-not-a-number",
        ),
        pytest.param(
            "model_list: [{model_name: a, litellm_params: {model: acme/a, timeout: -1}}]",
            "config.yaml: model_list[0].litellm_params.timeout: input should be greater than 0, "
            "got -1",
            id="timeout-negative",
        ),
        pytest.param(
            "model_list: [{model_name: a, litellm_params: {model: acme/a, stream_timeout: 0}}]",
            "config.yaml: model_list[0].litellm_params.stream_timeout: input should be greater "
            "than 0, got 0",
            id="stream_timeout-zero",
        ),
        pytest.param(
            "model_list: [{model_name: '', litellm_params: {model: acme/a}}]",
            "config.yaml: model_list[0].model_name: string should have at least 1 character, "
            "got ''",
            id="model_name-empty",
        ),
        pytest.param(
            "model_list: {model_name: a}",
            "config.yaml: model_list: input should be a valid list, got dict",
            id="model_list-not-a-list",
        ),
        pytest.param(
            "litellm_settings: {drop_params: maybe}",
            "config.yaml: litellm_settings.drop_params: input should be a valid boolean, unable "
            "to interpret input, got 'maybe'",
            id="drop_params-not-a-boolean",
        ),
        pytest.param(
            "litellm_settings: {request_timeout: -5}",
            "config.yaml: litellm_settings.request_timeout: input should be greater than 0, got -5",
            id="request_timeout-negative",
        ),
        pytest.param(
            "general_settings: {max_request_size_mb: 0}",
            "config.yaml: general_settings.max_request_size_mb: input should be greater than 0, "
            "got 0",
            id="max_request_size_mb-zero",
        ),
        pytest.param(
            "litellm_settings: {custom_provider_map: [{provider: acme}]}",
            "config.yaml: litellm_settings.custom_provider_map[0].custom_handler: required, "
            "but missing",
            id="custom_handler-missing",
        ),
    ],
)
def test_bad_value_is_named_by_its_yaml_path(tmp_path: Path, yaml_text: str, message: str) -> None:
    assert error_of(tmp_path, yaml_text) == message


def test_invalid_yaml_gives_line_and_column(tmp_path: Path) -> None:
    message = error_of(
        tmp_path, "general_settings:\n  master_key: sk-1\n   max_request_size_mb: 2\n"
    )
    assert message == (
        f"{tmp_path / 'config.yaml'} at line 3, column 23: not valid YAML: "
        "mapping values are not allowed here"
    )


@pytest.mark.parametrize(
    ("yaml_text", "kind"),
    [
        pytest.param("- model_name: a\n", "list", id="list"),
        pytest.param("just some text\n", "str", id="text"),
        pytest.param("42\n", "int", id="number"),
    ],
)
def test_top_level_that_is_not_a_mapping_is_refused(
    tmp_path: Path, yaml_text: str, kind: str
) -> None:
    assert error_of(tmp_path, yaml_text) == (
        "config.yaml: expected a mapping with model_list, litellm_settings, general_settings, "
        f"got {kind}"
    )


@pytest.mark.parametrize(
    "yaml_text",
    [pytest.param("", id="empty"), pytest.param("# nothing here yet\n", id="only-a-comment")],
)
def test_empty_file_loads_with_no_models(tmp_path: Path, yaml_text: str) -> None:
    loaded = load(tmp_path, yaml_text)
    assert loaded.config.model_list == []
    assert loaded.custom_provider_map == []
    assert loaded.path == tmp_path / "config.yaml"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        pytest.param("missing.yaml", "No such file or directory", id="missing"),
        pytest.param(".", "Is a directory", id="directory"),
    ],
)
def test_unreadable_file_is_named_with_the_reason(tmp_path: Path, name: str, reason: str) -> None:
    path = tmp_path / name
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"cannot read the config file {str(path)!r}: {reason}"


SECRET = "sk-do-not-print-4242"


@pytest.mark.parametrize(
    "yaml_text",
    [
        pytest.param(
            "model_list: [{model_name: a, litellm_params: "
            f"{{model: acme/a, api_key: [{SECRET}]}}}}]",
            id="api_key-a-list",
        ),
        pytest.param(
            "model_list: [{model_name: a, litellm_params: {model: acme/a, api_key: 4242}}]",
            id="api_key-a-number",
        ),
        pytest.param("general_settings: {master_key: 4242}", id="master_key-a-number"),
        pytest.param(
            f"general_settings: {{master_key: {{value: {SECRET}}}}}", id="master_key-a-mapping"
        ),
        pytest.param(
            f"environment_variables: {{OPENAI_API_KEY: [{SECRET}]}}", id="environment-variable"
        ),
        pytest.param(
            f"model_list: [{{model_name: a, litellm_params: {{api_key: {SECRET}}}}}]",
            id="beside-a-missing-model",
        ),
        pytest.param(
            "model_list: [{model_name: a, litellm_params: "
            f"{{model: acme/a, api_key: {SECRET}, timeout: soon}}}}]",
            id="beside-a-bad-timeout",
        ),
        pytest.param(f'general_settings:\n  master_key: "{SECRET}\n', id="in-broken-yaml"),
    ],
)
def test_secret_values_are_never_printed_in_errors(tmp_path: Path, yaml_text: str) -> None:
    message = error_of(tmp_path, yaml_text)
    assert SECRET not in message
    assert "4242" not in message


# -- model names and wildcards ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_name", "model", "message"),
    [
        pytest.param(
            "a*b",
            "acme/a",
            "config.yaml: model_list[0]: a wildcard '*' may only end a name (such as 'ollama/*'), "
            "got model_name 'a*b', model 'acme/a'",
            id="star-inside-model_name",
        ),
        pytest.param(
            "ollama/*",
            "ollama/*-instruct",
            "config.yaml: model_list[0]: a wildcard '*' may only end a name (such as 'ollama/*'), "
            "got model_name 'ollama/*', model 'ollama/*-instruct'",
            id="star-inside-model",
        ),
        pytest.param(
            "llama",
            "ollama/*",
            "config.yaml: model_list[0].litellm_params.model: 'ollama/*' is a wildcard, so "
            "model_name must be one too (such as 'ollama/*'), got 'llama'",
            id="model-wildcard-without-model_name-wildcard",
        ),
        pytest.param(
            "gpt-4",
            "gpt-4",
            "config.yaml: model_list[0].litellm_params.model: 'gpt-4' names no provider; write "
            "it as '<provider>/<model>', such as 'my-custom-llm/my-model'",
            id="model-without-provider",
        ),
    ],
)
def test_wildcard_and_provider_rules(
    tmp_path: Path, model_name: str, model: str, message: str
) -> None:
    text = f"model_list: [{{model_name: '{model_name}', litellm_params: {{model: '{model}'}}}}]"
    assert error_of(tmp_path, text) == message


@pytest.mark.parametrize(
    ("model_name", "model"),
    [
        pytest.param("*", "*", id="catch-all"),
        pytest.param("ollama/*", "ollama/*", id="provider-wildcard"),
        pytest.param("fast/*", "ollama/*", id="alias-wildcard"),
    ],
)
def test_wildcards_ending_a_name_are_accepted(tmp_path: Path, model_name: str, model: str) -> None:
    text = f"model_list: [{{model_name: '{model_name}', litellm_params: {{model: '{model}'}}}}]"
    [entry] = load(tmp_path, text).config.model_list
    assert (entry.model_name, entry.litellm_params.model) == (model_name, model)


def test_a_repeated_model_name_loads_and_is_named_as_ignored(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        model_list:
          - {model_name: gpt-4o, litellm_params: {model: azure/gpt-4o-eu}}
          - {model_name: other, litellm_params: {model: acme/other}}
          - {model_name: gpt-4o, litellm_params: {model: azure/gpt-4o-ca}}
        """,
    ).config
    assert config.ignored_settings() == ["model_list[2] (model_name 'gpt-4o' is served by [0])"]


# -- LiteLLM settings llmctl does not act on ----------------------------------------------------


def test_unknown_settings_are_kept_and_reported_as_ignored(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
        model_list:
          - model_name: m
            litellm_params: {model: acme/m}
        litellm_settings:
          drop_params: true
          success_callback: [langfuse]
          set_verbose: false
        general_settings:
          master_key: sk-1234
          database_url: postgresql://db.test/litellm
        router_settings:
          routing_strategy: least-busy
        callback_settings:
          otel: {message_logging: false}
        environment_variables:
          LLMCTL_TEST_IGNORED: "1"
        """,
    ).config
    assert config.ignored_settings() == [
        "callback_settings",
        "router_settings",
        "litellm_settings.success_callback",
        "litellm_settings.set_verbose",
        "general_settings.database_url",
    ]
    assert config.litellm_settings.model_extra == {
        "success_callback": ["langfuse"],
        "set_verbose": False,
    }
    assert config.general_settings.model_extra == {"database_url": "postgresql://db.test/litellm"}
    assert config.router_settings == {"routing_strategy": "least-busy"}


def test_litellm_proxy_config_loads_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_API_KEY_EU", "azure-key")
    monkeypatch.setenv("LITELLM_MASTER_KEY", "sk-master")
    config = load(
        tmp_path,
        """
        model_list:
          - model_name: gpt-4o
            litellm_params:
              model: azure/gpt-4o-eu
              api_base: https://my-endpoint-europe.openai.azure.com/
              api_key: "os.environ/AZURE_API_KEY_EU"
              rpm: 6
          - model_name: vllm-models
            litellm_params:
              model: openai/facebook/opt-125m
              api_base: http://0.0.0.0:4000/v1
              api_key: none
              rpm: 1440
            model_info:
              version: 2
        litellm_settings:
          drop_params: True
          num_retries: 3
          request_timeout: 600
          success_callback: ["langfuse"]
        general_settings:
          master_key: os.environ/LITELLM_MASTER_KEY
          alerting: ["slack"]
        router_settings:
          routing_strategy: usage-based-routing-v2
        """,
    ).config
    assert [e.model_name for e in config.model_list] == ["gpt-4o", "vllm-models"]
    assert config.litellm_settings.drop_params is True
    assert config.litellm_settings.request_timeout == 600
    assert config.general_settings.master_key == "sk-master"
    assert config.model_list[1].model_info == {"version": 2}
    assert config.ignored_settings() == [
        "router_settings",
        "litellm_settings.num_retries",
        "litellm_settings.success_callback",
        "general_settings.alerting",
    ]


def test_empty_sections_load_as_in_litellm(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        """
        model_list:
          - model_name: m
            litellm_params: {model: acme/m}
        litellm_settings:
          # drop_params: true
        general_settings:
        environment_variables:
        """,
    )
    assert [e.model_name for e in loaded.config.model_list] == ["m"]
