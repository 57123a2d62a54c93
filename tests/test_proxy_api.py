"""The proxy's OpenAI API, driven by the official ``openai`` client over real sockets."""

from __future__ import annotations

import json
import logging
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from conftest import BACKEND_KEY, MASTER_KEY
from serving import ProxyProcess


@pytest.fixture
def api(proxy: ProxyProcess) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=MASTER_KEY, max_retries=0) as api:
        yield api


@pytest.fixture
def guide_api(guide_proxy: ProxyProcess) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{guide_proxy.url}/v1", api_key="unused", max_retries=0) as api:
        yield api


def aclient(proxy: ProxyProcess) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{proxy.url}/v1", api_key=MASTER_KEY, max_retries=0)


def seen_by_handler(content: str | None) -> dict[str, Any]:
    assert content is not None
    seen: dict[str, Any] = json.loads(content)
    return seen


# -- chat -------------------------------------------------------------------------------------


def test_chat_completion_reaches_the_handler_with_the_request_and_config_params(
    api: openai.OpenAI,
) -> None:
    resp = api.chat.completions.create(
        model="echo",
        messages=[{"role": "user", "content": "Hello"}],
        temperature=0.2,
        max_tokens=7,
        extra_body={"my_backend_param": "x"},
    )
    seen = seen_by_handler(resp.choices[0].message.content)
    assert seen["messages"] == [{"role": "user", "content": "Hello"}]
    assert seen["optional_params"] == {
        "temperature": 0.2,
        "max_tokens": 7,
        "my_backend_param": "x",
        "context_id": "ctx-42",
    }
    # The config's extra key is where LiteLLM users looked for it in vain (#18216) too.
    assert seen["litellm_params_context_id"] == "ctx-42"
    assert seen["api_key_set"] is True
    assert resp.object == "chat.completion"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage is not None and resp.usage.total_tokens == 8


@pytest.mark.asyncio
async def test_async_client_chat_completion(proxy: ProxyProcess) -> None:
    async with aclient(proxy) as api:
        resp = await api.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "Hi async"}]
        )
    assert seen_by_handler(resp.choices[0].message.content)["messages"][0]["content"] == "Hi async"


def test_chat_stream_arrives_as_openai_chunks(
    api: openai.OpenAI,
) -> None:
    stream = api.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "one two three"}], stream=True
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "one two three "
    )
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    assert all(c.usage is None for c in chunks)


@pytest.mark.asyncio
async def test_chat_stream_with_include_usage_ends_with_a_usage_chunk(
    proxy: ProxyProcess,
) -> None:
    async with aclient(proxy) as api:
        stream = await api.chat.completions.create(
            model="echo",
            messages=[{"role": "user", "content": "a b"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (2, 2)
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_stream_is_server_sent_events_ending_with_done(proxy: ProxyProcess) -> None:
    with (
        proxy.client(headers={"authorization": f"Bearer {MASTER_KEY}"}) as http,
        http.stream(
            "POST",
            "/v1/chat/completions",
            json={"model": "echo", "stream": True, "messages": [{"role": "user", "content": "x"}]},
        ) as resp,
    ):
        body = resp.read().decode()
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    events = body.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    assert all(e.startswith("data: {") for e in events[:-2])


# -- text completions, embeddings, images, models ---------------------------------------------


def test_text_completion_is_served_by_the_chat_handler(
    api: openai.OpenAI,
) -> None:
    resp = api.completions.create(model="echo", prompt="Say hi", max_tokens=5)
    assert resp.object == "text_completion"
    assert resp.id.startswith("cmpl-")
    seen = seen_by_handler(resp.choices[0].text)
    assert seen["messages"] == [{"role": "user", "content": "Say hi"}]
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage is not None and resp.usage.total_tokens == 8


def test_text_completion_with_several_prompts_numbers_the_choices(
    api: openai.OpenAI,
) -> None:
    resp = api.completions.create(model="echo", prompt=["first", "second"])
    assert [c.index for c in resp.choices] == [0, 1]
    contents = [seen_by_handler(c.text)["messages"][0]["content"] for c in resp.choices]
    assert contents == ["first", "second"]


def test_text_completion_streams(
    api: openai.OpenAI,
) -> None:
    stream = api.completions.create(model="echo", prompt="streamed words", stream=True)
    chunks = list(stream)
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "streamed words "
    assert chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.parametrize(
    "encoding",
    [pytest.param("float", id="float"), pytest.param(openai.NOT_GIVEN, id="base64-by-default")],
)
def test_embeddings_in_both_encodings(api: openai.OpenAI, encoding: Any) -> None:
    resp = api.embeddings.create(model="echo", input=["a", "b"], encoding_format=encoding)
    assert [d.embedding for d in resp.data] == [[0.0, 0.5, -0.25], [1.0, 0.5, -0.25]]
    assert resp.usage.prompt_tokens == 2


def test_embeddings_base64_is_little_endian_float32(proxy: ProxyProcess) -> None:
    with proxy.client(headers={"authorization": f"Bearer {MASTER_KEY}"}) as http:
        resp = http.post(
            "/v1/embeddings", json={"model": "echo", "input": "a", "encoding_format": "base64"}
        )
    import base64
    import struct

    raw = base64.b64decode(resp.json()["data"][0]["embedding"])
    assert struct.unpack("<3f", raw) == (0.0, 0.5, -0.25)


def test_images_generate(
    api: openai.OpenAI,
) -> None:
    resp = api.images.generate(model="echo", prompt="A cute baby sea otter", n=2)
    assert resp.data is not None
    assert [d.url for d in resp.data] == ["https://images.test/0.png", "https://images.test/1.png"]


def test_models_are_owned_by_their_provider_with_capabilities(
    api: openai.OpenAI,
) -> None:
    models = {m.id: m for m in api.models.list()}
    assert {"echo", "fail", "blocking", "missing-provider"} <= set(models)
    echo = models["echo"].model_dump()
    assert echo["owned_by"] == "handlers.test_llm"
    assert echo["capabilities"] == ["chat", "embeddings", "images"]
    assert models["blocking"].model_dump()["capabilities"] == ["chat"]


# -- auth -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-key"),
        pytest.param({"authorization": "Bearer sk-wrong"}, id="wrong-key"),
        pytest.param({"authorization": f"Basic {MASTER_KEY}"}, id="not-bearer"),
        pytest.param({"api-key": "sk-wrong"}, id="wrong-api-key-header"),
    ],
)
def test_requests_without_the_master_key_answer_401(
    proxy: ProxyProcess, headers: dict[str, str]
) -> None:
    with proxy.client(headers=headers) as http:
        resp = http.get("/v1/models")
    assert resp.status_code == 401
    error = resp.json()["error"]
    assert error["type"] == "authentication_error"
    assert error["code"] == "invalid_api_key"
    assert "sk-wrong" not in resp.text


def test_openai_client_with_a_wrong_key_gets_authentication_error(proxy: ProxyProcess) -> None:
    with (
        openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-nope", max_retries=0) as api,
        pytest.raises(openai.AuthenticationError),
    ):
        api.models.list()


def test_azure_style_api_key_header_is_accepted(proxy: ProxyProcess) -> None:
    with proxy.client(headers={"api-key": MASTER_KEY}) as http:
        assert http.get("/v1/models").status_code == 200


@pytest.mark.parametrize("path", ["/health/liveliness", "/health/liveness", "/health/readiness"])
def test_probes_need_no_key(proxy: ProxyProcess, path: str) -> None:
    with proxy.client() as http:
        resp = http.get(path)
    assert resp.status_code == 200


def test_health_needs_the_key_and_reports_each_provider(proxy: ProxyProcess) -> None:
    with proxy.client() as http:
        assert http.get("/health").status_code == 401
        resp = http.get("/health", headers={"authorization": f"Bearer {MASTER_KEY}"})
    body = resp.json()
    assert body["unhealthy_count"] == 1
    assert body["unhealthy_endpoints"][0]["models"] == ["missing-provider"]
    unchecked = {p for e in body["unchecked_endpoints"] for p in [e["provider"]]}
    assert unchecked == {"test", "blocking"}
    assert BACKEND_KEY not in resp.text


def _probe(proxy: ProxyProcess, query: str) -> httpx.Response:
    with proxy.client(headers={"authorization": f"Bearer {MASTER_KEY}"}) as http:
        return http.get(f"/health?probe=completion&{query}")


def test_health_probe_asks_a_model_for_one_token_through_the_chat_path(
    proxy: ProxyProcess,
) -> None:
    body = _probe(proxy, "model=echo").json()
    assert (body["healthy_count"], body["unhealthy_count"]) == (1, 0)
    (row,) = body["healthy_endpoints"]
    assert (row["models"], row["provider"], row["status"]) == (["echo"], "test", "ok")
    assert row["latency_ms"] > 0
    seen = json.loads(row["answer"])  # what the echo handler was given
    assert seen["messages"] == [{"role": "user", "content": "ping"}]
    assert seen["optional_params"]["max_tokens"] == 1
    assert seen["optional_params"]["context_id"] == "ctx-42"  # the model's config applies


def test_health_probe_embeds_for_an_embedding_model(proxy: ProxyProcess) -> None:
    (row,) = _probe(proxy, "model=embed").json()["healthy_endpoints"]
    assert (row["models"], row["answer"]) == (["embed"], "an embedding of 3 values")


@pytest.mark.parametrize(
    ("model", "error"),
    [
        ("fail", "RateLimitError (429): the backend is rate limited"),
        ("crash", "InternalServerError (500): "),
        ("hang", "no answer within 0.5 s; raise ?timeout= if it needs longer"),
        ("missing-provider", "(400): "),
    ],
)
def test_health_probe_reports_a_failing_model_and_keeps_serving(
    proxy: ProxyProcess, model: str, error: str
) -> None:
    body = _probe(proxy, f"model={model}&timeout=0.5").json()
    (row,) = body["unhealthy_endpoints"]
    assert (row["models"], row["status"]) == ([model], "failed")
    assert error in row["error"]
    assert _probe(proxy, "model=echo").json()["healthy_count"] == 1


def test_health_probe_of_every_model_runs_them_side_by_side(proxy: ProxyProcess) -> None:
    body = _probe(proxy, "timeout=1").json()
    status = {
        row["models"][0]: row["status"]
        for key in ("healthy_endpoints", "unhealthy_endpoints")
        for row in body[key]
    }
    assert status["echo"] == status["embed"] == "ok"
    assert {status[m] for m in ("fail", "crash", "hang", "slow", "missing-provider")} == {"failed"}
    assert body["healthy_count"] + body["unhealthy_count"] == len(status)


def test_health_probe_of_an_unknown_kind_is_a_bad_request(proxy: ProxyProcess) -> None:
    with proxy.client(headers={"authorization": f"Bearer {MASTER_KEY}"}) as http:
        resp = http.get("/health?probe=everything")
        unknown = http.get("/health?probe=completion&model=nope")
    assert resp.status_code == 400
    assert resp.json()["error"]["param"] == "probe"
    assert "takes 'completion'" in resp.json()["error"]["message"]
    assert unknown.status_code == 404


def test_keys_never_reach_the_log(api: openai.OpenAI, proxy: ProxyProcess) -> None:
    api.chat.completions.create(model="echo", messages=[{"role": "user", "content": "x"}])
    assert MASTER_KEY not in proxy.log
    assert BACKEND_KEY not in proxy.log


def test_every_response_and_log_line_carries_a_request_id(proxy: ProxyProcess) -> None:
    with proxy.client(headers={"authorization": f"Bearer {MASTER_KEY}"}) as http:
        mine = http.get("/v1/models", headers={"x-request-id": "trace-abc-123"})
        fresh = http.get("/v1/models")
        refused = http.get("/v1/models", headers={"authorization": "Bearer no"})
    assert mine.headers["x-request-id"] == "trace-abc-123"
    assert fresh.headers["x-request-id"].startswith("req_")
    assert refused.headers["x-request-id"] != fresh.headers["x-request-id"]
    assert proxy.wait_for_log(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO    \[trace-abc-123\] llmctl\.access: "
        r"GET /v1/models 200 \d+\.\d ms"
    )


def test_the_log_formatter_writes_times_as_the_standard_one_does() -> None:
    from llmctl.proxy.tracing import LogFormatter

    ours, standard = (
        LogFormatter("%(asctime)s %(message)s"),
        logging.Formatter("%(asctime)s %(message)s"),
    )
    for created in (
        1_795_000_000.0,
        1_795_000_000.9994,
        1_795_000_001.0,
        1_795_000_000.5,
        86_399.25,
    ):
        record = logging.LogRecord("x", logging.INFO, "", 0, "hello", None, None)
        record.created, record.msecs = created, (created - int(created)) * 1000
        assert ours.format(record) == standard.format(record)
        assert ours.formatTime(record, "%H:%M") == standard.formatTime(record, "%H:%M")


# -- the feature guide's server and curl requests ---------------------------------------------

GUIDE = Path(__file__).parent / "data" / "custom_llm_guide.txt"
#: The guide's curl commands, exactly as printed: chat first, then images.
GUIDE_CHAT, GUIDE_IMAGE = re.findall(r"```bash\n(curl .*?)```", GUIDE.read_text("utf-8"), re.S)


def curl(command: str, proxy: ProxyProcess) -> tuple[int, dict[str, Any]]:
    """Run a guide curl command in bash against ``proxy`` (its address replaced)."""
    command = command.replace("http://0.0.0.0:4000", proxy.url).strip()
    done = subprocess.run(
        ["bash", "-c", command + " -s -w '\\n%{http_code}'"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    body, _, status = done.stdout.rpartition("\n")
    return int(status), json.loads(body)


def test_guide_chat_curl_answers_the_expected_body(guide_proxy: ProxyProcess) -> None:
    status, body = curl(GUIDE_CHAT, guide_proxy)
    assert status == 200
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["model"] == "gpt-3.5-turbo"
    assert body["system_fingerprint"] is None
    assert body["choices"] == [
        {
            "finish_reason": "stop",
            "index": 0,
            "message": {
                "content": "Hi!",
                "role": "assistant",
                "tool_calls": None,
                "function_call": None,
            },
        }
    ]
    assert body["usage"] == {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}


def test_guide_image_curl_answers_the_expected_body(guide_proxy: ProxyProcess) -> None:
    status, body = curl(GUIDE_IMAGE, guide_proxy)
    assert status == 200
    assert set(body) == {"created", "data"}
    assert body["data"] == [{"url": "https://example.com/image.png"}]


def test_guide_model_without_a_provider_answers_a_clear_error_and_the_server_goes_on(
    guide_api: openai.OpenAI,
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        guide_api.chat.completions.create(
            model="test-model", messages=[{"role": "user", "content": "x"}]
        )
    assert "no provider 'openai'" in caught.value.message
    assert "llmctl-openai" in caught.value.message
    resp = guide_api.chat.completions.create(
        model="my-custom-model", messages=[{"role": "user", "content": "x"}]
    )
    assert resp.choices[0].message.content == "Hi!"


def test_guide_server_without_a_key_says_so_at_start_up(guide_proxy: ProxyProcess) -> None:
    assert "no master_key: serving without authentication" in guide_proxy.log
    assert "model 'test-model'" in guide_proxy.log


def test_guide_server_streams_the_guide_handler(guide_api: openai.OpenAI) -> None:
    chunks = list(
        guide_api.chat.completions.create(
            model="my-custom-model", messages=[{"role": "user", "content": "x"}], stream=True
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hi!"


def test_httpx_sees_openai_error_shape_on_unknown_model(guide_proxy: ProxyProcess) -> None:
    resp = httpx.post(
        f"{guide_proxy.url}/v1/chat/completions",
        json={"model": "nope", "messages": [{"role": "user", "content": "x"}]},
    )
    assert resp.status_code == 404
    assert set(resp.json()["error"]) == {"message", "type", "param", "code"}
