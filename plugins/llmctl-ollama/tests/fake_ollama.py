"""A fake Ollama server speaking Ollama's native API as its documentation describes it.

Written from Ollama's API reference (``docs/api.md`` and ``docs/openapi.yaml`` of
https://github.com/ollama/ollama, published at https://docs.ollama.com/api):

- ``POST /api/chat`` (https://docs.ollama.com/api/chat): ``model``, ``messages`` (``role``,
  ``content``, ``images``, ``tool_calls`` whose ``function.arguments`` is a JSON object,
  ``tool_name``, ``thinking``), ``tools``, ``format`` (``"json"`` or a schema), ``options``,
  ``stream`` (true by default), ``think``, ``keep_alive``, ``logprobs``, ``top_logprobs``.
  Streamed, the answer is NDJSON (``application/x-ndjson``): one object per line with
  ``message.content``, the last with ``done: true``, ``done_reason`` and the counts
  ``prompt_eval_count`` / ``eval_count`` (https://docs.ollama.com/api/usage); with
  ``stream: false``, one JSON object.
- Tool calls (https://docs.ollama.com/capabilities/tool-calling): ``message.tool_calls`` with
  ``function.name`` and ``function.arguments`` as an object, no id.
- Thinking (https://docs.ollama.com/capabilities/thinking): ``message.thinking``.
- ``POST /api/embed`` (https://docs.ollama.com/api/embed): ``input`` a string or a list of
  strings, ``dimensions``, ``truncate``; answers ``embeddings`` and ``prompt_eval_count``.
- ``GET /api/tags`` (https://docs.ollama.com/api/tags): ``{"models": [...]}``.
- Errors (https://docs.ollama.com/api/errors): ``{"error": "..."}`` with the status; after a
  stream has started, a line ``{"error": "..."}`` with the status left at 200.

It is stricter than Ollama in one way: a request key the documentation does not list is a
400, so that a test catches the plugin sending what Ollama would silently ignore.

The request's ``model`` picks the behaviour: any installed name answers "You said: <the last
user message>" (or calls the first tool offered); ``missing`` is a 404; ``slow`` answers after
a second; ``slow-stream`` stalls after its first line; ``fails-mid-stream``, ``drops-mid-stream``
and ``ends-early`` break a stream in the three ways a stream breaks; ``not-json`` answers
HTML; ``needs-key`` wants ``Authorization: Bearer secret-key``. A path under ``/status/<code>``
answers every request with that error status.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

INSTALLED: Final = ("llama3.2:latest", "embeddinggemma:latest")
KEY: Final = "secret-key"
CREATED_AT: Final = "2025-10-26T17:15:24.097767Z"
NDJSON: Final = "application/x-ndjson"

_CHAT_KEYS: Final = frozenset(
    {
        "model",
        "messages",
        "tools",
        "format",
        "options",
        "stream",
        "think",
        "keep_alive",
        "logprobs",
        "top_logprobs",
    }
)
_MESSAGE_KEYS: Final = frozenset(
    {"role", "content", "images", "tool_calls", "tool_name", "thinking"}
)
_ROLES: Final = frozenset({"system", "user", "assistant", "tool"})
_EMBED_KEYS: Final = frozenset(
    {"model", "input", "truncate", "dimensions", "keep_alive", "options"}
)


class BadRequest(Exception):
    """A request Ollama would refuse with 400."""


class FakeOllama:
    """The fake server's state: the requests it received, newest last."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.app = Starlette(
            routes=[
                Route("/api/chat", self.chat, methods=["POST"]),
                Route("/api/embed", self.embed, methods=["POST"]),
                Route("/api/tags", self.tags, methods=["GET"]),
                Route("/status/{code:int}/{path:path}", self.status, methods=["GET", "POST"]),
            ]
        )

    @property
    def last(self) -> dict[str, Any]:
        """The body of the last request."""
        return self.requests[-1]["body"]

    async def _record(self, request: Request) -> Any:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        self.requests.append({"path": request.url.path, "headers": request.headers, "body": body})
        return body

    # -- routes ----------------------------------------------------------------------------------

    async def chat(self, request: Request) -> Response:
        body = await self._record(request)
        try:
            _check_chat(body)
        except BadRequest as error:
            return _error(400, str(error))
        model = body["model"]
        refused = _refusal(model, request.headers)
        if refused is not None:
            return refused
        if model == "slow":
            await asyncio.sleep(1.0)
        if model == "not-json":
            return Response(
                "<html><body>502 Bad Gateway</body></html>", 200, media_type="text/html"
            )
        lines = _chat_lines(body)
        if body.get("stream", True) is False:
            return JSONResponse(_whole(lines))
        if model == "drops-mid-stream":
            return _Dropped([_line(item) for item in lines[:2]])
        return StreamingResponse(_paced(model, lines), media_type=NDJSON)

    async def embed(self, request: Request) -> Response:
        body = await self._record(request)
        try:
            _check_embed(body)
        except BadRequest as error:
            return _error(400, str(error))
        refused = _refusal(body["model"], request.headers)
        if refused is not None:
            return refused
        texts = [body["input"]] if isinstance(body["input"], str) else body["input"]
        size = body.get("dimensions") or 3
        vectors = [[round((len(text) + i) / 10, 3) for i in range(size)] for text in texts]
        return JSONResponse(
            {
                "model": body["model"],
                "embeddings": vectors,
                "total_duration": 14143917,
                "load_duration": 1019500,
                "prompt_eval_count": sum(len(text.split()) for text in texts),
            }
        )

    async def tags(self, request: Request) -> Response:
        await self._record(request)
        models = [
            {
                "name": name,
                "model": name,
                "modified_at": "2025-10-03T23:34:03.409490317-07:00",
                "size": 9608350245,
                "digest": "c6eb396dbd5992bbe3f5cdb947e8bbc0ee413d7c17e2beaae69f5d569cf982eb",
                "details": {"format": "gguf", "family": "llama", "parameter_size": "3.2B"},
            }
            for name in INSTALLED
        ]
        return JSONResponse({"models": models})

    async def status(self, request: Request) -> Response:
        await self._record(request)
        code = request.path_params["code"]
        return _error(code, f"the fake server answers {code}, as asked")


# -- chat --------------------------------------------------------------------------------------


def _check_chat(body: Any) -> None:
    """Refuse a request the documentation does not allow, as Ollama does (400)."""
    if not isinstance(body, dict):
        raise BadRequest("invalid request body")
    if unknown := set(body) - _CHAT_KEYS:
        raise BadRequest(f"undocumented fields: {sorted(unknown)}")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise BadRequest("model is required")
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise BadRequest("messages must be a list")
    for message in messages:
        _check_message(message)
    if "stream" in body and not isinstance(body["stream"], bool):
        raise BadRequest("stream must be a boolean")
    if "options" in body and not isinstance(body["options"], dict):
        raise BadRequest("options must be an object")
    if "format" in body and body["format"] != "json" and not isinstance(body["format"], dict):
        raise BadRequest(f"invalid format: {body['format']!r}")
    if "think" in body and body["think"] not in (True, False, "high", "medium", "low"):
        raise BadRequest(f"invalid think value: {body['think']!r}")
    for tool in body.get("tools") or []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if tool.get("type") != "function" or not isinstance(function, dict):
            raise BadRequest(f"invalid tool: {tool!r}")
        if not isinstance(function.get("name"), str):
            raise BadRequest("a tool's function needs a name")


def _check_message(message: Any) -> None:
    if not isinstance(message, dict):
        raise BadRequest("a message must be an object")
    if unknown := set(message) - _MESSAGE_KEYS:
        raise BadRequest(f"undocumented message fields: {sorted(unknown)}")
    if message.get("role") not in _ROLES:
        raise BadRequest(f"invalid role: {message.get('role')!r}")
    if not isinstance(message.get("content"), str):
        raise BadRequest("a message's content must be a string")
    images = message.get("images", [])
    if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
        raise BadRequest("images must be a list of base64 strings")
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("arguments"), dict):
            raise BadRequest(
                "json: cannot unmarshal string into Go struct field "
                ".messages.tool_calls.function.arguments of type api.ToolCallFunctionArguments"
            )


def _chat_lines(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the objects of a streamed answer: content lines, then the last (done) one."""
    messages = body["messages"]
    options = body.get("options") or {}
    last = messages[-1] if messages else {"role": "user", "content": ""}
    head = {"model": body["model"], "created_at": CREATED_AT}
    lines: list[dict[str, Any]] = []
    if body.get("think"):
        lines.append({**head, "message": _said(thinking="Let me think."), "done": False})
    if body.get("tools") and last["role"] != "tool":
        name = body["tools"][0]["function"]["name"]
        call = {"function": {"name": name, "arguments": {"city": "Paris", "days": 2}}}
        lines.append({**head, "message": _said(tool_calls=[call]), "done": False})
        tokens: list[str] = []
        reason = "stop"
    else:
        said = last["content"]
        if last["role"] == "tool":
            said = f"{last.get('tool_name')} answered {said}"
        text = f"You said: {said}"
        if body.get("format") is not None:
            text = json.dumps({"said": said})
        tokens, reason = _cut(
            [t if i == 0 else " " + t for i, t in enumerate(text.split(" "))], options
        )
        for token in tokens:
            line: dict[str, Any] = {**head, "message": _said(content=token), "done": False}
            if body.get("logprobs"):
                alternatives = [{"token": "x", "logprob": -3.5, "bytes": [120]}]
                line["logprobs"] = [
                    {
                        "token": token,
                        "logprob": -0.25,
                        "bytes": list(token.encode()),
                        "top_logprobs": alternatives,
                    }
                ]
            lines.append(line)
    prompt_tokens = sum(len(m["content"].split()) for m in messages)
    lines.append(
        {
            **head,
            "message": _said(),
            "done": True,
            "done_reason": reason,
            "total_duration": 4883583458,
            "load_duration": 1334875,
            "prompt_eval_count": prompt_tokens,
            "prompt_eval_duration": 342546000,
            "eval_count": max(len(tokens), 1),
            "eval_duration": 4535599000,
        }
    )
    return lines


def _said(**fields: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": "", **fields}


def _cut(tokens: list[str], options: Mapping[str, Any]) -> tuple[list[str], str]:
    """Apply ``stop`` and ``num_predict`` as a model would."""
    for stop in options.get("stop") or []:
        text = "".join(tokens)
        if stop in text:
            kept = text[: text.index(stop)]
            tokens = [t if i == 0 else " " + t for i, t in enumerate(kept.split(" "))]
    limit = options.get("num_predict")
    if isinstance(limit, int) and 0 <= limit < len(tokens):
        return tokens[:limit], "length"
    return tokens, "stop"


def _whole(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the one object a ``stream: false`` request gets: the lines merged."""
    whole = dict(lines[-1])
    message = _said(content="".join(line["message"]["content"] for line in lines))
    for line in lines:
        for key in ("thinking", "tool_calls"):
            if key in line["message"]:
                message[key] = line["message"][key]
    whole["message"] = message
    logprobs = [p for line in lines for p in line.get("logprobs", [])]
    if logprobs:
        whole["logprobs"] = logprobs
    return whole


async def _paced(model: str, lines: list[dict[str, Any]]) -> AsyncIterator[bytes]:
    """Yield the lines of a stream, broken or slowed as the model asks."""
    for n, item in enumerate(lines):
        if n == 1 and model == "slow-stream":
            await asyncio.sleep(1.0)
        if n == 2 and model == "fails-mid-stream":
            yield _line({"error": "an error was encountered while running the model"})
            return
        if n == 2 and model == "ends-early":
            return
        yield _line(item)


class _Dropped(Response):
    """Send the start of a chunked answer, then drop the connection without ending it."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", NDJSON.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for piece in self.pieces:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        # Returning without the last body message: uvicorn closes the connection mid-answer.


# -- embeddings ----------------------------------------------------------------------------------


def _check_embed(body: Any) -> None:
    if not isinstance(body, dict):
        raise BadRequest("invalid request body")
    if unknown := set(body) - _EMBED_KEYS:
        raise BadRequest(f"undocumented fields: {sorted(unknown)}")
    if not isinstance(body.get("model"), str) or not body["model"]:
        raise BadRequest("model is required")
    texts = body.get("input")
    if not (
        isinstance(texts, str)
        or (isinstance(texts, list) and all(isinstance(t, str) for t in texts))
    ):
        raise BadRequest("invalid input type")
    if "dimensions" in body and not isinstance(body["dimensions"], int):
        raise BadRequest("dimensions must be an integer")


# -- answers -------------------------------------------------------------------------------------


def _refusal(model: str, headers: Mapping[str, str]) -> Response | None:
    """Return the error answer for ``model``, if it has one."""
    if model == "missing":
        return _error(404, f'model "{model}" not found, try pulling it first')
    if model == "needs-key" and headers.get("authorization") != f"Bearer {KEY}":
        return _error(401, "unauthorized")
    return None


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _line(item: Mapping[str, Any]) -> bytes:
    return json.dumps(item).encode() + b"\n"
