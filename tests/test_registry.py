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
    assert str(info.value).startswith(
        "no provider 'acmee' for model 'acmee/m1'; did you mean 'acme'? registered: acme, "
        "ollama. Install llmctl-acmee or add 'acmee' to custom_provider_map."
    )
    assert info.value.status_code == 400


def test_unknown_provider_with_nothing_registered_says_none() -> None:
    with pytest.raises(llmctl.ProviderNotFoundError, match="registered: none"):
        llmctl.completion("zzz/m1", MESSAGES)


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
