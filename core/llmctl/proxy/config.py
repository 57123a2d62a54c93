"""config.yaml: read it, check it, and resolve what it names, as LiteLLM's proxy does.

An existing LiteLLM config with custom handlers loads unchanged: ``model_list``,
``litellm_settings.custom_provider_map``, ``general_settings.master_key`` and
``environment_variables`` mean what they mean there, and ``os.environ/NAME`` values are read
from the environment. Settings llmctl does not act on are reported at start-up and ignored.
Every error names the YAML path of the bad value and what is expected there.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "ENV_PREFIX",
    "ConfigError",
    "GeneralSettings",
    "LitellmSettings",
    "LoadedConfig",
    "ModelEntry",
    "ModelParams",
    "ProviderEntry",
    "ProxyConfig",
    "import_handler",
    "load_config",
    "parse_config",
]

#: The prefix LiteLLM uses for values read from the environment.
ENV_PREFIX: Final = "os.environ/"

#: Keys whose values are secrets: never printed in an error or a log line.
_SECRET_WORDS: Final = ("key", "secret", "token", "password")


class ConfigError(ValueError):
    """config.yaml cannot be served; the message names the YAML path and what is expected."""


class _Section(BaseModel):
    # Keys llmctl does not know are kept, so that start-up can name them as ignored.
    model_config = ConfigDict(extra="allow", frozen=True)


class _Environment(BaseModel):
    # Read (and checked) before the rest, which may use the variables it sets.
    environment_variables: dict[str, str | int | float | bool] = Field(default_factory=dict)


class ModelParams(_Section):
    """A model's ``litellm_params``: the provider model and how to reach it.

    Keys other than these reach the handler in ``optional_params`` and in
    ``litellm_params``.
    """

    model: str = Field(min_length=1)
    api_base: str | None = None
    api_key: str | None = None
    #: Seconds the handler has to answer, and (without ``stream_timeout``) between chunks.
    timeout: float | None = Field(default=None, gt=0)
    #: Seconds a stream may wait for its first chunk and between two chunks.
    stream_timeout: float | None = Field(default=None, gt=0)


class ModelEntry(_Section):
    """One ``model_list`` entry: the public name clients ask for, and what serves it."""

    model_name: str = Field(min_length=1)
    litellm_params: ModelParams
    model_info: dict[str, Any] | None = None


class ProviderEntry(_Section):
    """One ``custom_provider_map`` entry: a provider name and its handler's import path."""

    provider: str = Field(min_length=1, pattern=r"^[^/\s]+$")
    custom_handler: str = Field(min_length=1)


class LitellmSettings(_Section):
    """``litellm_settings``: the handlers to register and call-wide defaults."""

    custom_provider_map: list[ProviderEntry] = Field(default_factory=list)
    #: Drop the OpenAI parameters a provider does not accept instead of refusing the call.
    drop_params: bool = False
    #: Seconds a handler has to answer when its model names no timeout.
    request_timeout: float | None = Field(default=None, gt=0)


class GeneralSettings(_Section):
    """``general_settings``: who may call the server and how much they may send."""

    master_key: str | None = Field(default=None, min_length=1)
    #: Serve without a master key on a non-loopback address (off: refuse to start).
    allow_remote_without_key: bool = False
    #: The largest request body accepted, in MiB (413 above it).
    max_request_size_mb: float = Field(default=32, gt=0)


class ProxyConfig(_Section):
    """A whole config.yaml."""

    model_list: list[ModelEntry] = Field(default_factory=list)
    litellm_settings: LitellmSettings = Field(default_factory=LitellmSettings)
    general_settings: GeneralSettings = Field(default_factory=GeneralSettings)
    environment_variables: dict[str, str | int | float | bool] = Field(default_factory=dict)
    router_settings: dict[str, Any] | None = None

    def ignored_settings(self) -> list[str]:
        """Return the YAML paths of the settings llmctl reads but does not act on."""
        paths = [f"{key}" for key in self.model_extra or {}]
        if self.router_settings:
            paths.append("router_settings")
        first: dict[str, int] = {}
        for i, entry in enumerate(self.model_list):
            paths.extend(f"model_list[{i}].{key}" for key in entry.model_extra or {})
            # LiteLLM load-balances between entries of one name; that arrives with the router.
            j = first.setdefault(entry.model_name, i)
            if j != i:
                paths.append(
                    f"model_list[{i}] (model_name {entry.model_name!r} is served by [{j}])"
                )
        for name in ("litellm_settings", "general_settings"):
            section = getattr(self, name)
            paths.extend(f"{name}.{key}" for key in section.model_extra or {})
        return paths


@dataclass
class LoadedConfig:
    """A checked config and the handlers its ``custom_provider_map`` names, imported."""

    config: ProxyConfig
    #: ``{"provider": name, "custom_handler": handler}`` dicts for ``registry.configure``.
    custom_provider_map: list[dict[str, Any]] = field(default_factory=list)
    #: Where each configured provider's handler comes from (``custom_handler.my_custom_llm``).
    handler_paths: dict[str, str] = field(default_factory=dict)
    path: Path | None = None


def load_config(path: str | os.PathLike[str]) -> LoadedConfig:
    """Read, check and resolve a config file.

    :raises ConfigError: the file is missing, is not YAML, or holds a bad value.
    """
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the config file {str(path)!r}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or exc
        raise ConfigError(f"{path}{where}: not valid YAML: {problem}") from None
    return parse_config(data if data is not None else {}, base_dir=path.parent, source=path)


def parse_config(
    data: object, *, base_dir: Path | None = None, source: Path | None = None
) -> LoadedConfig:
    """Check a config already parsed from YAML and import its handlers.

    :param base_dir: where ``custom_handler`` modules are looked for first.
    :raises ConfigError: naming the YAML path of the first bad value.
    """
    name = source.name if source is not None else "config"
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{name}: expected a mapping with model_list, litellm_settings, general_settings, "
            f"got {type(data).__name__}"
        )
    data = _drop_empty(data)
    try:
        env = _Environment.model_validate(data).environment_variables
    except ValidationError as exc:
        raise ConfigError(_describe(exc, name)) from None
    # As in LiteLLM: set first, so that os.environ/ values below may use them.
    for key, value in env.items():
        os.environ[key] = str(value)
    try:
        config = ProxyConfig.model_validate(_resolve_env(data, (), name))
    except ValidationError as exc:
        raise ConfigError(_describe(exc, name)) from None
    _check_model_names(config, name)
    loaded = LoadedConfig(config, path=source)
    for i, entry in enumerate(config.litellm_settings.custom_provider_map):
        at = f"{name}: litellm_settings.custom_provider_map[{i}].custom_handler"
        handler = import_handler(entry.custom_handler, base_dir, at)
        loaded.custom_provider_map.append({"provider": entry.provider, "custom_handler": handler})
        loaded.handler_paths[entry.provider] = entry.custom_handler
    return loaded


def import_handler(path: str, base_dir: Path | None, at: str) -> object:
    """Import ``module.attribute``: from a file beside the config first, else from sys.path.

    :param at: the YAML path, for the error message.
    :raises ConfigError: the module or attribute cannot be found or fails to import.
    """
    module_name, dot, attribute = path.rpartition(".")
    if not dot or not module_name or not attribute:
        raise ConfigError(
            f"{at}: {path!r} is not 'module.attribute'; write it as, for example, "
            "custom_handler.my_custom_llm (my_custom_llm in custom_handler.py beside the config)"
        )
    beside = None
    if base_dir is not None:
        beside = base_dir.joinpath(*module_name.split(".")).with_suffix(".py")
    try:
        if beside is not None and beside.is_file():
            module = _import_file(module_name, beside)
        else:
            module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name and not module_name.startswith(f"{exc.name}."):
            raise ConfigError(f"{at}: importing {module_name!r} failed: {exc}") from exc
        looked = f"{beside} or " if beside is not None else ""
        raise ConfigError(
            f"{at}: no module {module_name!r} (looked for {looked}an importable module); "
            "put the handler's file beside the config, or install its package"
        ) from None
    except Exception as exc:
        raise ConfigError(
            f"{at}: importing {module_name!r} raised {type(exc).__name__}: {exc}"
        ) from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        public = [n for n in vars(module) if not n.startswith("_")]
        close = difflib.get_close_matches(attribute, public, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"{at}: module {module_name!r} has no {attribute!r}{hint}") from None


def _import_file(module_name: str, file: Path) -> Any:
    """Import ``file`` as ``module_name``; its folder is on sys.path while it runs."""
    if module_name in sys.modules and getattr(sys.modules[module_name], "__file__", None) == str(
        file
    ):
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
        raise ImportError(f"cannot import {file}")
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(module_name)
    sys.modules[module_name] = module  # as import does: dataclasses and pickle look it up
    folder = str(file.parent)
    sys.path.insert(0, folder)  # so that the handler may import its own helpers beside it
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if previous is None:
            del sys.modules[module_name]
        else:
            sys.modules[module_name] = previous
        raise
    finally:
        sys.path.remove(folder)
    return module


def _drop_empty(data: Mapping[str, Any]) -> dict[str, Any]:
    """Drop keys left empty (``litellm_settings:`` with nothing under it), as LiteLLM does."""
    out = {key: value for key, value in data.items() if value is not None}
    for name in ("litellm_settings", "general_settings"):
        section = out.get(name)
        if isinstance(section, Mapping):
            out[name] = {key: value for key, value in section.items() if value is not None}
    return out


def _resolve_env(value: Any, path: tuple[str | int, ...], name: str) -> Any:
    """Replace every ``os.environ/NAME`` string with the variable's value."""
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        variable = value[len(ENV_PREFIX) :]
        try:
            return os.environ[variable]
        except KeyError:
            raise ConfigError(
                f"{name}: {_yaml_path(path)}: the environment variable {variable!r} is not set "
                f"(the value is {value!r}); export it, or write the value itself"
            ) from None
    if isinstance(value, Mapping):
        return {key: _resolve_env(item, (*path, str(key)), name) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve_env(item, (*path, i), name) for i, item in enumerate(value)]
    return value


def _check_model_names(config: ProxyConfig, name: str) -> None:
    seen: dict[str, int] = {}
    for i, entry in enumerate(config.model_list):
        at = f"{name}: model_list[{i}]"
        pattern, target = entry.model_name, entry.litellm_params.model
        if "*" in pattern[:-1] or "*" in target[:-1]:
            raise ConfigError(
                f"{at}: a wildcard '*' may only end a name (such as 'ollama/*'), "
                f"got model_name {pattern!r}, model {target!r}"
            )
        if target.endswith("*") and not pattern.endswith("*"):
            raise ConfigError(
                f"{at}.litellm_params.model: {target!r} is a wildcard, so model_name must be "
                f"one too (such as {target!r}), got {pattern!r}"
            )
        if target != "*" and "/" not in target:
            raise ConfigError(
                f"{at}.litellm_params.model: {target!r} names no provider; write it as "
                "'<provider>/<model>', such as 'my-custom-llm/my-model'"
            )
        seen.setdefault(pattern, i)


def _describe(exc: ValidationError, name: str) -> str:
    """Say what the first validation error is, at its YAML path, without printing secrets."""
    error = exc.errors(include_url=False)[0]
    loc = error["loc"]
    where = _yaml_path(loc)
    value = error.get("input")
    if error["type"] == "missing":
        return f"{name}: {where}: required, but missing"
    secret = any(word in str(part).lower() for part in loc for word in _SECRET_WORDS)
    shown = "<redacted>" if secret else repr(value)
    if isinstance(value, (dict, list)) and not secret:
        shown = type(value).__name__
    expected = error["msg"][0].lower() + error["msg"][1:]
    return f"{name}: {where}: {expected}, got {shown}"


def _yaml_path(loc: tuple[str | int, ...] | tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if part in _TYPE_TAGS:
            continue  # a union names the member it tried: the YAML path has no such key
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "<top level>"


_TYPE_TAGS: Final = frozenset({"str", "int", "float", "bool"})
