"""What a provider declares it can do: parameters it refuses (or drops), and health checks."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import llmctl
from conftest import MESSAGES, Register
from llmctl.health import check_provider


class StrictLLM(llmctl.CustomLLM):
    """Accepts temperature and max_tokens; embeddings accept dimensions only."""

    def get_supported_openai_params(self, model: str) -> list[str] | None:
        return None if model == "lenient" else ["temperature", "max_tokens", "dimensions"]

    def completion(self, *args: Any, **kwargs: Any) -> llmctl.ModelResponse:
        content = ",".join(sorted(kwargs["optional_params"]))
        return llmctl.ModelResponse(choices=[{"message": {"content": content}}])

    def embedding(self, *args: Any, **kwargs: Any) -> llmctl.EmbeddingResponse:
        return llmctl.EmbeddingResponse(
            data=[{"embedding": [float(len(kwargs["optional_params"]))]}]
        )


def params_seen(**kwargs: Any) -> str | None:
    return llmctl.completion("strict/m", MESSAGES, **kwargs).choices[0].message.content


def test_an_unsupported_openai_param_is_refused_with_the_fix(register: Register) -> None:
    register(strict=StrictLLM())
    with pytest.raises(llmctl.UnsupportedParamsError) as caught:
        params_seen(temperature=0.1, top_p=0.5)
    error = caught.value
    assert error.status_code == 400 and error.param == "top_p"
    assert "provider 'strict' does not support 'top_p' for model 'm'" in error.message
    assert "it accepts: dimensions, max_tokens, temperature" in error.message
    assert "drop_params=True" in error.message


def test_drop_params_drops_them_per_call_or_globally(
    register: Register, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(strict=StrictLLM())
    assert params_seen(temperature=0.1, top_p=0.5, seed=1, drop_params=True) == "temperature"
    monkeypatch.setattr(llmctl, "drop_params", True)
    assert params_seen(top_p=0.5) == ""
    with pytest.raises(llmctl.UnsupportedParamsError):  # the call's own setting wins
        params_seen(top_p=0.5, drop_params=False)


def test_own_params_stream_options_and_undeclared_models_pass(register: Register) -> None:
    register(strict=StrictLLM())
    assert params_seen(my_flag=1, max_completion_tokens=5) == "max_tokens,my_flag"
    stream = llmctl.completion(
        "strict/m", MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    assert [c for c in stream]
    answer = llmctl.completion("strict/lenient", MESSAGES, top_p=0.5)
    assert answer.choices[0].message.content == "top_p"


def test_embeddings_are_checked_against_their_own_params(register: Register) -> None:
    register(strict=StrictLLM())
    assert llmctl.embedding("strict/m", input="x", dimensions=8).data[0]["embedding"] == [1.0]
    with pytest.raises(llmctl.UnsupportedParamsError, match="'encoding_format'"):
        asyncio.run(llmctl.aembedding("strict/m", input="x", encoding_format="float"))


class Healthy(llmctl.CustomLLM):
    def completion(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a health check must not bill a completion")

    def health_check(self, api_base: str | None = None) -> dict[str, Any]:
        return {"models": ["m"], "api_base": api_base}


class AsyncDown(llmctl.CustomLLM):
    def completion(self, *args: Any, **kwargs: Any) -> Any: ...

    async def health_check(self, timeout: float) -> str:
        raise ConnectionRefusedError(f"backend down (given {timeout} s)")


class Hanging(llmctl.CustomLLM):
    def completion(self, *args: Any, **kwargs: Any) -> Any: ...

    async def health_check(self) -> str:
        await asyncio.sleep(30)
        return "too late"


def test_health_checks_report_status_latency_and_answer(register: Register) -> None:
    register(up=Healthy(), down=AsyncDown(), slow=Hanging(), mute=StrictLLM())
    up = check_provider("up", api_base="http://127.0.0.1:9")
    assert (up.status, up.answer) == ("ok", {"models": ["m"], "api_base": "http://127.0.0.1:9"})
    assert up.latency is not None and up.latency >= 0
    down = check_provider("down", timeout=2.5)
    assert down.status == "failed"
    assert down.error == "ConnectionRefusedError: backend down (given 2.5 s)"
    slow = check_provider("slow", timeout=0.05)
    assert (slow.status, slow.error) == ("failed", "no answer within 0.05 s")
    assert check_provider("mute").status == "unchecked"
    missing = check_provider("absent")
    assert missing.status == "error" and "no provider 'absent'" in (missing.error or "")
    assert set(up.to_json()) == {"name", "status", "latency_ms", "answer", "error"}


class TwoNames(llmctl.CustomLLM):
    def completion(self, *args: Any, **kwargs: Any) -> Any: ...

    def health_check(self, custom_llm_provider: str) -> str:
        return f"checked as {custom_llm_provider}"


def test_health_check_learns_the_name_it_was_checked_under(register: Register) -> None:
    handler = TwoNames()
    register(first=handler, second=handler)
    assert check_provider("first").answer == "checked as first"
    assert check_provider("second").answer == "checked as second"


class Described(llmctl.CustomLLM):
    def completion(self, *args: Any, **kwargs: Any) -> Any: ...

    def health_check(self, litellm_params: dict[str, Any]) -> str:
        if "health_path" not in litellm_params:
            raise llmctl.UnsupportedOperationError("no health_path in the model's config")
        return f"asked {litellm_params['health_path']}"


def test_health_check_gets_the_model_config_and_may_decline(register: Register) -> None:
    register(described=Described())
    asked = check_provider("described", litellm_params={"health_path": "/healthz"})
    assert (asked.status, asked.answer) == ("ok", "asked /healthz")
    declined = check_provider("described")
    assert (declined.status, declined.error) == (
        "unchecked",
        "no health_path in the model's config",
    )
