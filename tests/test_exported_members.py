"""``llmctl/__init__.py`` is the public face: exactly the public names, cheap to import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import llmctl
import llmctl.types
import llmctl.types.utils


def test_all_lists_exactly_the_public_names() -> None:
    for name in llmctl.__all__:
        getattr(llmctl, name)  # every lazy name resolves
    helpers = {"annotations", "importlib", "TYPE_CHECKING", "Any", "Final"}
    public = {
        name
        for name, value in vars(llmctl).items()
        if not name.startswith("_") and not isinstance(value, type(llmctl)) and name not in helpers
    }
    assert set(llmctl.__all__) == public | {"__version__"}
    assert llmctl.__all__ == sorted(llmctl.__all__)
    assert set(llmctl.__all__) <= set(dir(llmctl))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'completoin'"):
        llmctl.completoin  # type: ignore[attr-defined]  # noqa: B018


def test_litellm_types_path_reexports_every_type() -> None:
    assert set(llmctl.types.utils.__all__) == set(llmctl.types.__all__)
    for name in llmctl.types.__all__:
        assert getattr(llmctl.types.utils, name) is getattr(llmctl.types, name)


def test_import_llmctl_imports_no_server_stack_and_no_http_client() -> None:
    code = "import sys, json, llmctl; print(json.dumps(sorted(sys.modules)))"
    modules = set(json.loads(subprocess.check_output([sys.executable, "-c", code])))
    heavy = {"starlette", "uvicorn", "fastapi", "httpx", "yaml", "click", "pluggy", "openai"}
    heavy |= {"pydantic", "importlib_metadata"}  # first use of a name imports what it needs
    heavy.add("asyncio")  # 15 ms of import time; only calls that bridge sync and async need it
    assert not heavy & {m.split(".")[0] for m in modules}
