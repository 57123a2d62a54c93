"""Every Python example in README.md and docs/ runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXAMPLES = [
    pytest.param(block, id=f"{page.name}[{i}]")
    for page in PAGES
    for i, block in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S))
]


#: The address the docs give the proxy; examples using it run against the guide's server.
PROXY_ADDRESS = "http://127.0.0.1:4000"


@pytest.mark.parametrize("code", EXAMPLES)
def test_documented_example_runs(code: str, request: pytest.FixtureRequest) -> None:
    if PROXY_ADDRESS in code:
        code = code.replace(PROXY_ADDRESS, request.getfixturevalue("guide_proxy").url)
    namespace = {"__name__": "docs_example"}
    exec(compile(code, "<docs>", "exec"), namespace)
    client = namespace.get("client")
    if hasattr(client, "close"):
        client.close()


def test_the_hook_reference_carries_every_hook_spec() -> None:
    import inspect

    from llmctl.hookspecs import CallHookSpecs, ProviderSpecs

    page = (ROOT / "docs" / "hooks.md").read_text()
    for specs in (ProviderSpecs, CallHookSpecs):
        for name, hook in vars(specs).items():
            if callable(hook):
                arguments = [p for p in inspect.signature(hook).parameters if p != "self"]
                assert f"### `{name}({', '.join(arguments)})`" in page
                assert inspect.getdoc(hook) in page
