"""Providers are found by name; a wrong name or a wrong map says how to fix it."""

from __future__ import annotations

from typing import Any

import pytest

import llmctl
from conftest import MESSAGES, Register
from llmctl import CustomLLM, ModelResponse
from llmctl.registry import registry


class Acme(CustomLLM):
    def completion(self, *args: Any, **kwargs: Any) -> ModelResponse:
        return ModelResponse()


def test_unknown_provider_suggests_closest_name(register: Register) -> None:
    register(acme=Acme(), ollama=Acme())
    with pytest.raises(llmctl.ProviderNotFoundError) as info:
        llmctl.completion("acmee/m1", MESSAGES)
    assert info.value.message == (
        "no provider 'acmee' for model 'acmee/m1'; did you mean 'acme'? Registered: acme, ollama."
    )
    assert "install" not in info.value.message  # never a package named after a typo
    assert info.value.status_code == 400


def test_unknown_provider_without_a_close_name_says_how_to_add_one() -> None:
    with pytest.raises(llmctl.ProviderNotFoundError) as info:
        llmctl.completion("zzz/m1", MESSAGES)
    assert info.value.message == (
        "no provider 'zzz' for model 'zzz/m1'; install its provider plugin (llmctl-zzz) "
        "or add it to custom_provider_map. Registered: none."
    )


def test_an_entry_edited_in_place_takes_effect_on_the_next_call(register: Register) -> None:
    register(acme=Acme())
    first = registry.provider("acme")
    replacement = Acme()
    llmctl.custom_provider_map[0]["custom_handler"] = replacement
    assert registry.provider("acme").handler is replacement is not first.handler


def test_a_handler_replaced_by_an_equal_one_is_seen(register: Register) -> None:
    class Equal(Acme):
        def __eq__(self, other: object) -> bool:
            return isinstance(other, Equal)

        __hash__ = object.__hash__

    register(acme=Equal())
    registry.provider("acme")
    newer = Equal()
    llmctl.custom_provider_map = [{"provider": "acme", "custom_handler": newer}]
    assert registry.provider("acme").handler is newer


@pytest.mark.parametrize(
    ("entries", "error", "message"),
    [
        pytest.param("acme", TypeError, "must be a list of", id="not-a-list"),
        pytest.param(
            [("acme", Acme())],
            TypeError,
            r"custom_provider_map\[0\] must be a dict",
            id="entry-not-a-dict",
        ),
        pytest.param(
            [{"provider": "acme", "custom_handler": Acme}],
            TypeError,
            r"is the class Acme; pass an instance: Acme\(\)",
            id="class-not-instance",
        ),
        pytest.param(
            [{"provider": "acme", "custom_handler": object()}],
            TypeError,
            "implements no operation",
            id="no-operation",
        ),
        pytest.param(
            [{"provider": "acme", "custom_handler": Acme()}] * 2,
            ValueError,
            r"\[1\] registers provider 'acme' a second time",
            id="duplicate",
        ),
    ],
)
def test_a_malformed_custom_provider_map_says_which_entry_and_why(
    entries: Any, error: type[Exception], message: str
) -> None:
    llmctl.custom_provider_map = entries
    with pytest.raises(error, match=message):
        llmctl.completion("acme/m1", MESSAGES)


def test_provider_reports_the_operations_it_really_implements(register: Register) -> None:
    register(acme=Acme())
    provider = registry.provider("acme")
    assert provider.operations == frozenset({"completion"})
    assert provider.route("astreaming") == "completion"
    assert registry.names() == ["acme"]


def test_an_unchanged_map_keeps_its_providers(register: Register) -> None:
    register(acme=Acme())
    first = registry.provider("acme")
    llmctl.custom_provider_map = list(llmctl.custom_provider_map)
    assert registry.provider("acme") is first
