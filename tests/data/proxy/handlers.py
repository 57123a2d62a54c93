"""Handlers for the proxy tests: each provider model behaves as its name says."""

import asyncio
import json
import time
from pathlib import Path

from llmctl import CustomLLM, CustomLLMError, ModelResponse
from llmctl.types.utils import EmbeddingResponse, ImageObject, ImageResponse


def _answer(text, usage=(3, 5)):
    return ModelResponse(
        choices=[{"message": {"content": text}}],
        usage={"prompt_tokens": usage[0], "completion_tokens": usage[1]},
        model="echo-backend",
    )


def _touch(optional_params, what):
    marker = optional_params.get("marker")
    if marker:
        Path(marker).write_text(what)


def _instance(schema, defs=None):
    """A value valid for JSON ``schema``: each field's first example, else a plain default."""
    defs = schema.get("$defs", defs or {})
    if "$ref" in schema:
        return _instance(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "examples" in schema:
        return schema["examples"][0]
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        return _instance(schema["anyOf"][0], defs)
    kind = schema.get("type", "object")
    if kind == "object":
        return {name: _instance(sub, defs) for name, sub in schema.get("properties", {}).items()}
    defaults = {"string": "", "integer": 0, "number": 0.0, "boolean": False, "array": []}
    return defaults.get(kind)


def _structured(optional_params):
    """Answer as a model asked for structured output does: a tool call, else JSON content."""
    _touch(optional_params, json.dumps(optional_params))
    tools = optional_params.get("tools")
    if tools:
        function = tools[0]["function"]
        arguments = json.dumps(_instance(function["parameters"]))
        message = {
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": function["name"], "arguments": arguments},
                }
            ],
        }
        finish_reason = "tool_calls"
    else:
        schema = optional_params["response_format"]["json_schema"]["schema"]
        message = {"content": json.dumps(_instance(schema))}
        finish_reason = "stop"
    return ModelResponse(
        choices=[{"message": message, "finish_reason": finish_reason}],
        usage={"prompt_tokens": 3, "completion_tokens": 5},
        model="structured-backend",
    )


class TestLLM(CustomLLM):
    """``test/<behaviour>``: echo, structured, fail, crash, hang, slow."""

    async def acompletion(self, model, messages, optional_params, litellm_params, **kwargs):
        if model == "echo":
            seen = {
                "messages": messages,
                "optional_params": optional_params,
                "litellm_params_context_id": litellm_params.get("context_id"),
                "api_key_set": kwargs.get("api_key") is not None,
                "timeout": kwargs.get("timeout"),
            }
            return _answer(json.dumps(seen))
        if model == "structured":
            return _structured(optional_params)
        if model == "fail":
            raise CustomLLMError(status_code=429, message="the backend is rate limited")
        if model == "crash":
            raise ValueError("the handler has a bug")
        if model in ("hang", "slow"):
            try:
                await asyncio.sleep(3600)
            finally:
                _touch(optional_params, "cancelled")
        raise CustomLLMError(status_code=404, message=f"no test behaviour {model!r}")

    async def astreaming(self, model, messages, optional_params, **kwargs):
        if model == "echo":
            words = str(messages[-1]["content"]).split()
            for word in words:
                yield {"text": word + " ", "is_finished": False, "index": 0}
            yield {
                "text": "",
                "is_finished": True,
                "finish_reason": "stop",
                "index": 0,
                "usage": {
                    "prompt_tokens": 2,
                    "completion_tokens": len(words),
                    "total_tokens": 2 + len(words),
                },
            }
        elif model == "fail":
            raise CustomLLMError(status_code=503, message="the backend is down")
        elif model == "crash":
            yield {"text": "one ", "is_finished": False, "index": 0}
            yield {"text": "two ", "is_finished": False, "index": 0}
            raise ValueError("the stream broke")
        elif model == "hang":
            await asyncio.sleep(3600)
            yield {"text": "never", "is_finished": True, "finish_reason": "stop", "index": 0}
        elif model == "slow":
            try:
                for n in range(int(optional_params.get("chunks", 1000))):
                    yield {"text": f"{n} ", "is_finished": False, "index": 0}
                    await asyncio.sleep(float(optional_params.get("every", 0.05)))
                yield {"text": "", "is_finished": True, "finish_reason": "stop", "index": 0}
            finally:
                _touch(optional_params, "closed")
        else:
            raise CustomLLMError(status_code=404, message=f"no test behaviour {model!r}")

    async def aembedding(self, model, input, model_response, optional_params, **kwargs):
        texts = [input] if isinstance(input, str) else input
        return EmbeddingResponse(
            data=[{"embedding": [float(i), 0.5, -0.25], "index": i} for i in range(len(texts))],
            model=model,
            usage={"prompt_tokens": len(texts)},
        )

    async def aimage_generation(self, model, prompt, model_response, optional_params, **kwargs):
        n = optional_params.get("n") or 1
        return ImageResponse(
            created=int(time.time()),
            data=[ImageObject(url=f"https://images.test/{i}.png") for i in range(n)],
        )


class BlockingLLM(CustomLLM):
    """Sync only: blocks its thread (never the event loop) for ``seconds``."""

    def completion(self, model, messages, optional_params, **kwargs):
        time.sleep(float(optional_params.get("seconds", 2)))
        return _answer("done blocking")


test_llm = TestLLM()
blocking_llm = BlockingLLM()
