"""``llmctl/__init__.py`` is the public face: exactly the public names, cheap to import."""

from __future__ import annotations

import json
import subprocess
import sys

import llmctl
import llmctl.types
import llmctl.types.utils


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(llmctl).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "llmctl").startswith("llmctl")
        and not isinstance(value, type(llmctl))
    }
    assert set(llmctl.__all__) == public | {"__version__", "custom_provider_map"}
    assert llmctl.__all__ == sorted(llmctl.__all__)


def test_litellm_types_path_reexports_every_type() -> None:
    assert set(llmctl.types.utils.__all__) == set(llmctl.types.__all__)
    for name in llmctl.types.__all__:
        assert getattr(llmctl.types.utils, name) is getattr(llmctl.types, name)


def test_import_llmctl_imports_no_server_stack_and_no_http_client() -> None:
    code = "import sys, json, llmctl; print(json.dumps(sorted(sys.modules)))"
    modules = set(json.loads(subprocess.check_output([sys.executable, "-c", code])))
    heavy = {"starlette", "uvicorn", "fastapi", "httpx", "yaml", "click", "pluggy", "openai"}
    heavy.add("asyncio")  # 15 ms of import time; only calls that bridge sync and async need it
    assert not heavy & {m.split(".")[0] for m in modules}
