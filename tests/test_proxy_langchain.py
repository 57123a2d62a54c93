"""LangChain's ``ChatOpenAI`` (langchain-openai) pointed at the proxy: invoke, stream, structured.

The handlers are tests/data/proxy/handlers.py: ``echo`` answers a JSON dump of what it saw and
streams the last message's words; ``structured`` answers the tool call or the JSON content a
model asked for structured output returns, filled with each field's first example.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, Field

from conftest import MASTER_KEY
from serving import ProxyProcess


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str = Field(examples=["Ada"])
    age: int = Field(examples=[36])


@pytest.fixture(autouse=True)
def _only_the_proxy_is_reachable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any lookup of a host but 127.0.0.1: no tiktoken download, no LangSmith upload.

    tiktoken fetches its encodings on the first token count (``get_num_tokens``, which these
    tests never call); LangSmith traces only when its environment variables say so.
    """
    lookup = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("127.0.0.1", b"127.0.0.1"):
            raise OSError(f"the LangChain tests must not reach {host!r}")
        return lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    for variable in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2", "LANGCHAIN_TRACING"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as http:
        yield http


def chat(
    proxy: ProxyProcess, http: httpx.Client | httpx.AsyncClient, model: str = "echo", **kwargs: Any
) -> ChatOpenAI:
    """ChatOpenAI on the proxy, on ``http`` (closed by the test, not left to the collector).

    Without a client of its own, ChatOpenAI makes one per base_url that is never closed.
    """
    kwargs["http_async_client" if isinstance(http, httpx.AsyncClient) else "http_client"] = http
    return ChatOpenAI(
        base_url=f"{proxy.url}/v1", api_key=MASTER_KEY, model=model, max_retries=0, **kwargs
    )


def seen_by_handler(message: AIMessage) -> dict[str, Any]:
    assert isinstance(message.content, str)
    seen: dict[str, Any] = json.loads(message.content)
    return seen


# -- invoke and stream ------------------------------------------------------------------------


def test_invoke_reaches_the_handler_and_reports_usage(
    proxy: ProxyProcess, http: httpx.Client
) -> None:
    message = chat(proxy, http).invoke("Hello")
    assert isinstance(message, AIMessage)
    seen = seen_by_handler(message)
    assert seen["messages"] == [{"role": "user", "content": "Hello"}]
    assert seen["api_key_set"] is True
    assert message.usage_metadata is not None
    assert message.usage_metadata["input_tokens"] == 3
    assert message.usage_metadata["output_tokens"] == 5
    assert message.usage_metadata["total_tokens"] == 8
    assert message.response_metadata["finish_reason"] == "stop"


def test_stream_yields_the_words_as_chunks(proxy: ProxyProcess, http: httpx.Client) -> None:
    chunks = list(chat(proxy, http).stream("one two three"))
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert "".join(str(c.content) for c in chunks) == "one two three "
    assert [c.content for c in chunks[:3]] == ["one ", "two ", "three "]


@pytest.mark.asyncio
async def test_astream_yields_the_words_and_with_stream_usage_the_token_counts(
    proxy: ProxyProcess,
) -> None:
    async with httpx.AsyncClient() as http:
        llm = chat(proxy, http, stream_usage=True)
        chunks = [c async for c in llm.astream("one two three")]
    assert "".join(str(c.content) for c in chunks) == "one two three "
    usage = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert len(usage) == 1
    assert (usage[0]["input_tokens"], usage[0]["output_tokens"]) == (2, 3)


# -- structured output ------------------------------------------------------------------------


def test_structured_output_as_json_schema_parses_the_content(
    proxy: ProxyProcess, http: httpx.Client, tmp_path: Path
) -> None:
    marker = tmp_path / "optional_params.json"
    llm = chat(proxy, http, "structured", extra_body={"marker": str(marker)})
    person = llm.with_structured_output(Person, method="json_schema").invoke("Who is Ada?")
    assert person == Person(name="Ada", age=36)
    sent = json.loads(marker.read_text())["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["name"] == "Person"
    assert sent["json_schema"]["strict"] is True
    assert set(sent["json_schema"]["schema"]["properties"]) == {"name", "age"}


def test_structured_output_by_function_calling_parses_the_tool_call(
    proxy: ProxyProcess, http: httpx.Client, tmp_path: Path
) -> None:
    marker = tmp_path / "optional_params.json"
    llm = chat(proxy, http, "structured", extra_body={"marker": str(marker)})
    structured = llm.with_structured_output(Person, method="function_calling", include_raw=True)
    answer = structured.invoke("Who is Ada?")
    assert isinstance(answer, dict)
    assert answer["parsing_error"] is None
    assert answer["parsed"] == Person(name="Ada", age=36)
    raw = answer["raw"]
    assert raw.tool_calls == [
        {"name": "Person", "args": {"name": "Ada", "age": 36}, "id": "call_1", "type": "tool_call"}
    ]
    assert raw.response_metadata["finish_reason"] == "tool_calls"
    sent = json.loads(marker.read_text())
    assert [tool["function"]["name"] for tool in sent["tools"]] == ["Person"]
    assert set(sent["tools"][0]["function"]["parameters"]["properties"]) == {"name", "age"}
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "Person"}}
    assert "response_format" not in sent
