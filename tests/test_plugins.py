"""Providers found through entry points: lazy, isolated, never silently shadowed."""

from __future__ import annotations

import asyncio
import sys

import pytest

import llmctl
from conftest import MESSAGES, Register, SitePackages
from llmctl.exceptions import PluginLoadError, ProviderNotFoundError
from llmctl.registry import registry

GROUP = "litellm.providers"

ECHO = """
import llmctl

class EchoLLM(llmctl.CustomLLM):
    instances = 0

    def __init__(self):
        EchoLLM.instances += 1

    def completion(self, model, messages, **kwargs):
        return {"choices": [{"message": {"role": "assistant",
                                         "content": f"{__name__}:{model}"}}]}

handler = EchoLLM()
"""


def answer(model: str) -> str | None:
    return llmctl.completion(model, MESSAGES).choices[0].message.content


def test_an_entry_point_provider_is_imported_on_its_first_call_only(site: SitePackages) -> None:
    site.add("llmctl-echo", {GROUP: {"echo": "echo_plugin:handler"}}, {"echo_plugin": ECHO})
    rows = registry.describe()
    assert [(r.name, r.source, r.distribution, r.version, r.status) for r in rows] == [
        ("echo", "entry_point", "llmctl-echo", "1.0", "unloaded")
    ]
    assert "echo" in registry.names()
    assert "echo_plugin" not in sys.modules
    assert answer("echo/m1") == "echo_plugin:m1"
    assert registry.describe()[0].status == "ok"
    assert registry.describe()[0].operations == ["completion"]


def test_a_customllm_subclass_is_instantiated_once(site: SitePackages) -> None:
    site.add("llmctl-echo", {GROUP: {"echo": "echo_plugin:EchoLLM"}}, {"echo_plugin": ECHO})
    assert answer("echo/a") == "echo_plugin:a"
    assert answer("echo/b") == "echo_plugin:b"
    assert sys.modules["echo_plugin"].EchoLLM.instances == 2  # the module's own, plus ours


def test_a_handler_taking_only_kwargs_receives_every_argument(site: SitePackages) -> None:
    source = """
import llmctl

class Spy(llmctl.CustomLLM):
    def completion(self, *args, **kwargs):
        return {"choices": [{"message": {"role": "assistant",
                                         "content": ",".join(sorted(kwargs))}}]}
"""
    site.add("llmctl-spy", {GROUP: {"spy": "spy_plugin:Spy"}}, {"spy_plugin": source})
    received = (answer("spy/m") or "").split(",")
    assert len(received) == 16 and {"model", "messages", "optional_params"} <= set(received)


def test_a_plugin_that_fails_to_import_breaks_only_its_own_name(site: SitePackages) -> None:
    site.add("llmctl-echo", {GROUP: {"echo": "echo_plugin:handler"}}, {"echo_plugin": ECHO})
    site.add(
        "llmctl-broken",
        {GROUP: {"broken": "broken_plugin:handler"}},
        {"broken_plugin": "import no_such_module_anywhere\n"},
    )
    with pytest.raises(PluginLoadError) as caught:
        answer("broken/m")
    message = str(caught.value)
    for part in (
        "llmctl-broken 1.0",
        "'broken = broken_plugin:handler'",
        "ModuleNotFoundError",
        "no_such_module_anywhere",
        "LLMCTL_DISABLE_PLUGINS=llmctl-broken",
    ):
        assert part in message
    assert isinstance(caught.value.__cause__, ModuleNotFoundError)
    assert caught.value.status_code == 500
    with pytest.raises(PluginLoadError):  # the same answer every time, no re-import
        answer("broken/m")
    assert answer("echo/m") == "echo_plugin:m"
    statuses = {r.name: (r.status, r.error) for r in registry.describe(load=True)}
    assert statuses["echo"] == ("ok", None)
    assert statuses["broken"][0] == "error" and "no_such_module_anywhere" in statuses["broken"][1]


@pytest.mark.parametrize(
    ("value", "source", "problem"),
    [
        ("wrong:THING", "THING = 42\n", "names 42, which is no provider"),
        ("wrong:Plain", "class Plain:\n    pass\n", "does not subclass CustomLLM"),
        ("wrong", "X = 1\n", "which is no provider"),
        (
            "wrong:Needy",
            "import llmctl\nclass Needy(llmctl.CustomLLM):\n"
            "    def __init__(self, key):\n        pass\n"
            "    def completion(self):\n        pass\n",
            "cannot be instantiated without arguments",
        ),
        ("wrong:missing", "X = 1\n", "AttributeError"),
    ],
)
def test_an_entry_point_of_the_wrong_kind_is_a_load_error(
    site: SitePackages, value: str, source: str, problem: str
) -> None:
    site.add("llmctl-wrong", {GROUP: {"wrong": value}}, {"wrong": source})
    with pytest.raises(PluginLoadError, match=problem):
        answer("wrong/m")


HOOKY = """
import llmctl

@llmctl.hookimpl
def completion(model, messages):
    return {"choices": [{"message": {"role": "assistant", "content": f"hooky:{model}"}}]}

@llmctl.hookimpl
async def astreaming(model, optional_params):
    for word in ("a", "b"):
        yield {"text": word, "is_finished": False, "finish_reason": None, "index": 0,
               "tool_use": None, "usage": None}
    yield {"text": "", "is_finished": True, "finish_reason": "stop", "index": 0,
           "tool_use": None, "usage": None}

@llmctl.hookimpl
def get_supported_openai_params(model):
    return ["temperature"]
"""


def test_a_module_of_hookimpls_is_a_provider(site: SitePackages) -> None:
    site.add("llmctl-hooky", {GROUP: {"hooky": "hooky_plugin"}}, {"hooky_plugin": HOOKY})
    assert answer("hooky/m") == "hooky:m"
    stream = llmctl.completion("hooky/m", MESSAGES, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "ab"

    async def astream() -> str:
        chunks = await llmctl.acompletion("hooky/m", MESSAGES, stream=True)
        return "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])

    assert asyncio.run(astream()) == "ab"
    row = registry.describe()[0]
    assert row.operations == ["completion", "astreaming"]
    with pytest.raises(llmctl.UnsupportedParamsError, match="'top_p'"):
        llmctl.completion("hooky/m", MESSAGES, top_p=0.5)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        (
            "import llmctl\n@llmctl.hookimpl\ndef completion(model, prompt_text):\n    pass\n",
            "prompt_text",
        ),
        ("import llmctl\n@llmctl.hookimpl\ndef completon(model):\n    pass\n", "completon"),
    ],
)
def test_hookimpls_that_do_not_match_the_specs_are_a_load_error(
    site: SitePackages, source: str, problem: str
) -> None:
    site.add("llmctl-bad-hooks", {GROUP: {"bad": "bad_hooks"}}, {"bad_hooks": source})
    with pytest.raises(PluginLoadError, match=f"does not match llmctl's provider hooks.*{problem}"):
        answer("bad/m")


class CodeLLM(llmctl.CustomLLM):
    def completion(self, *args: object, **kwargs: object) -> llmctl.ModelResponse:
        return llmctl.ModelResponse(choices=[{"message": {"content": "from code"}}])


def test_code_and_config_registrations_win_and_the_listing_says_so(
    site: SitePackages, register: Register
) -> None:
    site.add("llmctl-echo", {GROUP: {"echo": "echo_plugin:handler"}}, {"echo_plugin": ECHO})
    registry.configure([{"provider": "echo", "custom_handler": CodeLLM()}])
    try:
        assert answer("echo/m") == "from code"
        rows = [(r.source, r.status) for r in registry.describe()]
        assert rows == [("config", "ok"), ("entry_point", "shadowed")]
        register(echo=CodeLLM())
        rows = [(r.source, r.status) for r in registry.describe()]
        assert rows == [("code", "ok"), ("config", "shadowed"), ("entry_point", "shadowed")]
        assert "overridden by the code registration" in (registry.describe()[2].error or "")
    finally:
        registry.configure([])
    assert answer("echo/m") == "from code"
    llmctl.custom_provider_map = []
    assert answer("echo/m") == "echo_plugin:m"


TWIN = ECHO.replace("{__name__}", "twin")


def test_two_distributions_claiming_a_name_make_it_an_error_until_one_is_chosen(
    site: SitePackages, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.add("llmctl-echo", {GROUP: {"echo": "echo_plugin:handler"}}, {"echo_plugin": ECHO})
    site.add("llmctl-echo-twin", {GROUP: {"echo": "twin_plugin:handler"}}, {"twin_plugin": TWIN})
    with pytest.raises(PluginLoadError) as caught:
        answer("echo/m")
    message = str(caught.value)
    assert "llmctl-echo (echo = echo_plugin:handler)" in message
    assert "llmctl-echo-twin (echo = twin_plugin:handler)" in message
    assert "LLMCTL_PROVIDER_ECHO=<distribution>" in message
    assert [r.status for r in registry.describe()] == ["conflict", "conflict"]

    monkeypatch.setenv("LLMCTL_PROVIDER_ECHO", "LLMCTL_Echo_Twin")
    registry.refresh()
    assert answer("echo/m") == "twin:m"
    assert [r.status for r in registry.describe()] == ["shadowed", "ok"]

    monkeypatch.setenv("LLMCTL_PROVIDER_ECHO", "llmctl-echo-triplet")
    registry.refresh()
    with pytest.raises(PluginLoadError, match="names no distribution that provides 'echo'"):
        answer("echo/m")


def test_environment_switches_choose_which_distributions_load(
    site: SitePackages, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.add("llmctl-echo", {GROUP: {"echo": "echo_plugin:handler"}}, {"echo_plugin": ECHO})
    site.add("llmctl-twin", {GROUP: {"twin": "twin_plugin:handler"}}, {"twin_plugin": TWIN})
    monkeypatch.setenv("LLMCTL_DISABLE_PLUGINS", "llmctl_twin")
    registry.refresh()
    assert answer("echo/m") == "echo_plugin:m"
    with pytest.raises(ProviderNotFoundError, match="llmctl-twin is installed but disabled"):
        answer("twin/m")
    assert {r.name: r.status for r in registry.describe()} == {"echo": "ok", "twin": "disabled"}

    monkeypatch.delenv("LLMCTL_DISABLE_PLUGINS")
    monkeypatch.setenv("LLMCTL_LOAD_PLUGINS", "llmctl-twin, other")
    registry.refresh()
    assert answer("twin/m") == "twin:m"
    with pytest.raises(ProviderNotFoundError, match="not listed in LLMCTL_LOAD_PLUGINS"):
        answer("echo/m")


def test_an_unknown_name_suggests_the_closest_installed_plugin(site: SitePackages) -> None:
    site.add("llmctl-echo", {GROUP: {"echo": "echo_plugin:handler"}}, {"echo_plugin": ECHO})
    with pytest.raises(ProviderNotFoundError, match="did you mean 'echo'"):
        answer("ecko/m")
    assert "echo_plugin" not in sys.modules


def test_a_plugin_may_call_another_while_loading_but_not_itself(site: SitePackages) -> None:
    source = """
import llmctl
from llmctl.registry import registry

class Router(llmctl.CustomLLM):
    def __init__(self):
        self.target = registry.provider("echo")  # another plugin: fine

    def completion(self, model, messages, **kwargs):
        return self.target.handler.completion(model, messages)

class Narcissus(llmctl.CustomLLM):
    def __init__(self):
        registry.provider("self")  # itself: an error, never a deadlock

    def completion(self, **kwargs): ...
"""
    site.add("llmctl-echo", {GROUP: {"echo": "echo_plugin:handler"}}, {"echo_plugin": ECHO})
    site.add(
        "llmctl-router",
        {GROUP: {"router": "router_plugin:Router", "self": "router_plugin:Narcissus"}},
        {"router_plugin": source},
    )
    assert answer("router/m") == "echo_plugin:m"
    with pytest.raises(PluginLoadError, match="calls its own provider while it loads"):
        answer("self/m")


def test_a_handler_that_raises_on_inspection_is_a_load_error(site: SitePackages) -> None:
    source = """
import llmctl

class Lazy(llmctl.CustomLLM):
    @property
    def client(self):
        raise RuntimeError("LAZY_API_KEY is not set")

    def completion(self, model, messages, **kwargs):
        return {"choices": [{"message": {"role": "assistant", "content": "lazy"}}]}

class Hostile:
    def __getattr__(self, name):
        raise RuntimeError("no attributes here")

lazy, hostile = Lazy(), Hostile()
"""
    site.add(
        "llmctl-odd",
        {GROUP: {"lazy": "odd_plugin:lazy", "hostile": "odd_plugin:hostile"}},
        {"odd_plugin": source},
    )
    assert answer("lazy/m") == "lazy"  # a property is never run to inspect a handler
    with pytest.raises(PluginLoadError, match="RuntimeError: no attributes here"):
        answer("hostile/m")
    assert {r.name: r.status for r in registry.describe(load=True)} == {
        "hostile": "error",
        "lazy": "ok",
    }


def test_calls_and_listings_read_the_switches_at_the_same_time(
    site: SitePackages, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.add("llmctl-echo", {GROUP: {"echo": "echo_plugin:handler"}}, {"echo_plugin": ECHO})
    monkeypatch.setenv("LLMCTL_DISABLE_PLUGINS", "llmctl-echo")
    registry.refresh()
    with pytest.raises(ProviderNotFoundError, match="installed but disabled"):
        answer("echo/m")
    monkeypatch.delenv("LLMCTL_DISABLE_PLUGINS")  # read again only on refresh()
    assert registry.describe()[0].status == "disabled"
    registry.refresh()
    assert answer("echo/m") == "echo_plugin:m"
