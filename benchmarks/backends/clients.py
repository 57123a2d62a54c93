"""The three clients of the backends benchmark, each making the same requests to the fake server.

- ``raw``: one pooled ``httpx.AsyncClient`` with llmctl's pool limits. A call posts the JSON
  body and decodes the answer with ``response.json()``; a stream is read with
  ``client.stream`` and ``aiter_lines``, each ``data:`` line but ``[DONE]`` decoded with
  ``json.loads``, to the body's end (so that the connection returns to the pool, as llmctl's
  and the openai SDK's streams do): the least a correct OpenAI client does.
- ``llmctl``: ``await llmctl.acompletion(model="openai_compatible/m", api_base=...)``, the
  plugin path under test; ``stream=True`` iterated to the end.
- ``litellm``: ``await litellm.acompletion(model="hosted_vllm/m", api_base=.../v1)``, the
  same through LiteLLM's own OpenAI-compatible provider.

Each imports its library when built, so a worker loads only the one it times.
"""

from __future__ import annotations

import importlib
import json
from importlib.metadata import PackageNotFoundError, entry_points, version
from typing import Any

from benchmarks.backends.config import (
    API_KEY,
    JSON_MODEL,
    LITELLM,
    LITELLM_PROVIDER,
    LLMCTL,
    MAX_CONNECTIONS,
    MAX_KEEPALIVE_CONNECTIONS,
    MESSAGES,
    PROVIDER,
    RAW,
    stream_model,
)

#: The distributions under every client's HTTP calls, recorded with the results. Without
#: sniffio, httpcore retries ``import sniffio`` on every async request (a failed import
#: searches sys.path), which adds the same cost to every httpx client.
HTTP_STACK = ("httpx", "httpcore", "anyio", "sniffio")
#: Where the fake server answers, below its address.
CHAT_PATH = "/v1/chat/completions"


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "-"


def _litellm() -> Any:
    # Imported by name: LiteLLM lives in its own venv, not where mypy checks this file.
    return importlib.import_module("litellm")


class Client:
    """What the worker times: a plain call, and a whole stream of ``chunks`` chunks."""

    name = ""

    def __init__(self, url: str) -> None:
        self.url = url
        #: Requests sent, by kind (``json``, ``stream``), for the runner's check of the server.
        self.requests = {"json": 0, "stream": 0}

    async def call(self) -> int:
        """Make one non-streaming call; return 1."""
        self.requests["json"] += 1
        await self._complete()
        return 1

    async def call_text(self) -> str:
        """Make one non-streaming call; return its message's content."""
        self.requests["json"] += 1
        return self._content(await self._complete())

    async def stream(self, chunks: int, texts: list[str] | None = None) -> int:
        """Read a whole stream of ``chunks`` chunks; return how many chunks the client gave.

        :param texts: when given, each chunk's text is appended to it.
        """
        self.requests["stream"] += 1
        return await self._stream(chunks, texts)

    async def _complete(self) -> Any:
        raise NotImplementedError

    def _content(self, answer: Any) -> str:
        return str(answer.choices[0].message.content)

    async def _stream(self, chunks: int, texts: list[str] | None) -> int:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Return the versions this client runs on, for the results' metadata."""
        return {"versions": {name: _version(name) for name in HTTP_STACK}}

    async def close(self) -> None:
        """Release the client's connections."""


class RawClient(Client):
    """A bare ``httpx.AsyncClient``: the floor the plugin path is compared with."""

    name = RAW

    def __init__(self, url: str) -> None:
        import httpx

        super().__init__(url)
        limits = httpx.Limits(
            max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS
        )
        self.http = httpx.AsyncClient(limits=limits)
        self.endpoint = url + CHAT_PATH
        self.headers = {"Authorization": f"Bearer {API_KEY}"}

    async def _complete(self) -> Any:
        body = {"model": JSON_MODEL, "messages": MESSAGES}
        response = await self.http.post(self.endpoint, json=body, headers=self.headers)
        response.raise_for_status()
        return response.json()

    def _content(self, answer: Any) -> str:
        return str(answer["choices"][0]["message"]["content"])

    async def _stream(self, chunks: int, texts: list[str] | None) -> int:
        body = {"model": stream_model(chunks), "messages": MESSAGES, "stream": True}
        seen = 0
        async with self.http.stream(
            "POST", self.endpoint, json=body, headers=self.headers
        ) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    continue  # read on to the body's end: the connection goes back to the pool
                event = json.loads(data)
                if event["choices"]:
                    seen += 1
                    if texts is not None:
                        texts.append(event["choices"][0]["delta"].get("content") or "")
        return seen

    async def close(self) -> None:
        """Close the pooled client."""
        await self.http.aclose()


class LibraryClient(Client):
    """``acompletion`` of llmctl or LiteLLM, the model string and address set per library."""

    def __init__(self, url: str, acompletion: Any, provider: str, api_base: str) -> None:
        super().__init__(url)
        self.acompletion = acompletion
        self.provider = provider
        self.api_base = api_base

    async def _complete(self) -> Any:
        return await self.acompletion(
            model=f"{self.provider}/{JSON_MODEL}",
            messages=MESSAGES,
            api_base=self.api_base,
            api_key=API_KEY,
        )

    async def _stream(self, chunks: int, texts: list[str] | None) -> int:
        stream = await self.acompletion(
            model=f"{self.provider}/{stream_model(chunks)}",
            messages=MESSAGES,
            api_base=self.api_base,
            api_key=API_KEY,
            stream=True,
        )
        seen = 0
        async for chunk in stream:
            seen += 1
            if texts is not None and chunk.choices:
                texts.append(chunk.choices[0].delta.content or "")
        return seen


class LlmctlClient(LibraryClient):
    """llmctl through the ``openai_compatible`` plugin."""

    name = LLMCTL

    def __init__(self, url: str) -> None:
        import llmctl
        from llmctl.http import LIMITS

        if (LIMITS.max_connections, LIMITS.max_keepalive_connections) != (
            MAX_CONNECTIONS,
            MAX_KEEPALIVE_CONNECTIONS,
        ):
            raise AssertionError(
                f"llmctl.http.LIMITS is {LIMITS}; set MAX_CONNECTIONS and "
                "MAX_KEEPALIVE_CONNECTIONS in benchmarks/backends/config.py to match, so the "
                "raw client gets the same pool"
            )
        super().__init__(url, llmctl.acompletion, PROVIDER, url)

    def describe(self) -> dict[str, Any]:
        """Versions, and the distribution that provides the ``openai_compatible`` provider."""
        found = entry_points(group="litellm.providers", name=PROVIDER)
        plugin = [
            {
                "value": ep.value,
                "distribution": ep.dist.name if ep.dist else "?",
                "version": ep.dist.version if ep.dist else "?",
            }
            for ep in found
        ]
        versions = {"llmctl": _version("llmctl"), **super().describe()["versions"]}
        return {"versions": versions, "plugin": plugin}


class LitellmClient(LibraryClient):
    """LiteLLM's ``hosted_vllm`` provider (an OpenAI-compatible server)."""

    name = LITELLM

    def __init__(self, url: str) -> None:
        litellm = _litellm()
        litellm.telemetry = False
        litellm.suppress_debug_info = True
        super().__init__(url, litellm.acompletion, LITELLM_PROVIDER, url + "/v1")

    def describe(self) -> dict[str, Any]:
        """Versions of LiteLLM and the HTTP stack it runs on."""
        versions = {name: _version(name) for name in ("litellm", "openai", "aiohttp")}
        return {"versions": {**versions, **super().describe()["versions"]}}

    async def close(self) -> None:
        """Close LiteLLM's cached async clients, if this release can."""
        closer = getattr(_litellm(), "close_litellm_async_clients", None)
        if closer is not None:
            await closer()


CLIENT_TYPES: dict[str, type[Client]] = {
    RAW: RawClient,
    LLMCTL: LlmctlClient,
    LITELLM: LitellmClient,
}


def make_client(name: str, url: str) -> Client:
    """Return the client ``name`` (``raw``, ``llmctl``, ``litellm``) for the server at ``url``."""
    if name not in CLIENT_TYPES:
        raise ValueError(f"no client {name!r}; choose from {', '.join(CLIENT_TYPES)}")
    return CLIENT_TYPES[name](url)
