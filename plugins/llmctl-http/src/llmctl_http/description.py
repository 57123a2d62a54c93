"""A call's API description: found, validated once per distinct description, and cached.

The description comes from the model's ``litellm_params`` (config.yaml, where a proxy's
clients cannot reach), else from the call's ``http=`` keyword (Python callers). Validation
runs once per distinct description: later calls with an equal one get the same compiled
:class:`~llmctl_http.schema.ApiDescription` from a cache keyed by its JSON text, and calls
passing the very same dict again (the proxy passes its config's) find it by identity, in
under a microsecond, after checking it is unchanged.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
from collections.abc import Mapping
from typing import Any, Final, get_args

from llmctl.exceptions import BadRequestError
from pydantic import BaseModel, ValidationError

from llmctl_http.schema import ApiDescription

__all__ = ["KEY", "description_of", "load_description"]

#: The key of ``litellm_params`` (and of a call's keywords) that holds the description.
KEY: Final = "http"
#: Distinct descriptions kept compiled; a process serves a config's worth of them.
_CACHE_SIZE: Final = 256
_DOCS: Final = "see docs/providers/http.md"
#: What a required key holds, for the message that says it is missing.
_REQUIRED: Final = {
    "path": "the URL path relative to api_base, such as /v2/generate/{model}",
    "framing": "how the stream is framed: none, text, ndjson or sse",
    "vectors": "the dotted path of the vectors in the answer, such as data.*.embedding",
}


def description_of(
    *, model: str, optional_params: Mapping[str, Any], litellm_params: Mapping[str, Any] | None
) -> ApiDescription:
    """Return the validated description of one call.

    :raises BadRequestError: there is none, a call tries to replace the configured one, or it
        is invalid (the message lists every problem with its key path).
    """
    configured = (litellm_params or {}).get(KEY)
    given = optional_params.get(KEY)
    if configured is not None:
        if given is not None and given is not configured and given != configured:
            raise BadRequestError(
                f"the API description of model {model!r} is set in config.yaml; a call "
                f"cannot replace it: remove {KEY!r} from the request",
                llm_provider=KEY,
                param=KEY,
            )
        return load_description(configured, model=model)
    if given is None:
        raise BadRequestError(
            f"model {model!r} has no API description: give its litellm_params in config.yaml "
            f"an {KEY}: {{path: ..., body: ..., response: ...}} key, or pass {KEY}={{...}} "
            f"to the call; {_DOCS}",
            llm_provider=KEY,
            param=KEY,
        )
    return load_description(given, model=model)


def load_description(raw: Any, *, model: str | None = None) -> ApiDescription:
    """Validate a description (the value of the ``http`` key); equal ones are validated once.

    :param raw: the description as config.yaml gives it, or an :class:`ApiDescription`.
    :param model: the model it describes, for messages.
    :raises BadRequestError: it is invalid; the message names each key path at fault and
        what it expects.
    """
    if isinstance(raw, ApiDescription):
        return raw
    seen = _seen.get(id(raw))
    if seen is not None and seen[0] is raw and seen[1] == raw:
        return seen[2]  # the same dict as before, unchanged: the proxy's case, on every call
    api = _load(raw, model)
    if len(_seen) >= _CACHE_SIZE:
        _seen.clear()
    # Kept: the dict itself (so that its id is not reused) and a copy to see it changed.
    _seen[id(raw)] = (raw, copy.deepcopy(raw), api)
    return api


def _load(raw: Any, model: str | None) -> ApiDescription:
    if not isinstance(raw, Mapping):
        raise _invalid(model, [f"{KEY}: must be a mapping of keys (path, body, response, ...)"])
    try:
        key = json.dumps(raw, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise _invalid(
            model,
            [
                f"{KEY}: must hold JSON values only (mappings, lists, strings, finite numbers, "
                f"booleans, null): {error}"
            ],
        ) from None
    try:
        return _validated(key)
    except ValidationError as error:
        raise _invalid(model, _problems(error)) from None


#: Descriptions met before, by identity: ``id -> (description, a copy of it, validated)``.
_seen: dict[int, tuple[Any, Any, ApiDescription]] = {}


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _validated(key: str) -> ApiDescription:
    return ApiDescription.model_validate(json.loads(key))


def _invalid(model: str | None, problems: list[str]) -> BadRequestError:
    whose = f" of model {model!r}" if model else ""
    listed = "".join(f"\n  {problem}" for problem in problems)
    return BadRequestError(
        f"the API description{whose} is invalid ({_DOCS}):{listed}",
        llm_provider=KEY,
        param=KEY,
    )


def _problems(error: ValidationError) -> list[str]:
    """Return one ``http.<key path>: <problem>`` line per error pydantic found."""
    problems = []
    for item in error.errors(include_url=False):
        loc = [str(part) for part in item["loc"]]
        context = item.get("ctx") or {}
        kind = item["type"]
        if kind == "description":  # the checks across keys, already "<where>: <problem>"
            problems += [f"{KEY}.{line}" for line in context["problems"].splitlines()]
            continue
        if kind == "template" and context.get("where"):
            loc.append(context["where"])
        where = ".".join([KEY, *loc])
        problems.append(f"{where}: {_explain(kind, item, loc)}")
    return problems


def _explain(kind: str, item: Any, loc: list[str]) -> str:
    if kind == "missing":
        hint = _REQUIRED.get(loc[-1])
        return f"required: {hint}" if hint else "required"
    if kind == "extra_forbidden":
        keys = _keys_at(loc[:-1])
        close = difflib.get_close_matches(loc[-1], keys, n=1)
        guess = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown key; {guess}the keys here are: {', '.join(keys)}"
    message = str(item["msg"])
    if kind in ("template", "url", "json_path", "done", "finish_reason"):
        return message
    return f"{message}, got {item['input']!r:.80}"


def _keys_at(loc: list[str]) -> list[str]:
    """Return the keys of the section at ``loc`` (a path of field names from the top)."""
    section: type[BaseModel] = ApiDescription
    for name in loc:
        field = section.model_fields.get(name)
        inner = _section_in(field.annotation) if field is not None else None
        if inner is None:
            return []
        section = inner
    return list(section.model_fields)


def _section_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _section_in(arg)
        if found is not None:
            return found
    return None
