"""Bad input and failing handlers: a clear answer in OpenAI's error shape, and the server goes on.

After every test the server must still answer a plain request (the autouse fixture checks).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import MASTER_KEY
from serving import ProxyProcess

AUTH = {"authorization": f"Bearer {MASTER_KEY}"}
HELLO = [{"role": "user", "content": "Hello"}]


@pytest.fixture
def http(proxy: ProxyProcess) -> Iterator[httpx.Client]:
    with proxy.client(headers=AUTH) as client:
        yield client
    # The server keeps serving after whatever the test did.
    with proxy.client(headers=AUTH) as client:
        resp = client.post("/v1/chat/completions", json={"model": "echo", "messages": HELLO})
    assert resp.status_code == 200, resp.text


def error_of(resp: httpx.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert "Traceback" not in resp.text
    error: dict[str, Any] = body["error"]
    return error


# -- the body ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        pytest.param(b'{"model": "echo", "messages": [', None, "not valid JSON", id="invalid-json"),
        pytest.param(b"[1, 2]", None, "must be a JSON object", id="json-array"),
        pytest.param(b"", None, "must be a JSON object", id="empty-body"),
        pytest.param(
            json.dumps({"messages": HELLO}).encode(), "model", "'model' is required", id="no-model"
        ),
        pytest.param(
            json.dumps({"model": "echo"}).encode(), "messages", "required", id="no-messages"
        ),
        pytest.param(
            json.dumps({"model": "echo", "messages": "hi"}).encode(),
            "messages",
            "valid array",
            id="messages-not-a-list",
        ),
        pytest.param(
            json.dumps({"model": "echo", "messages": []}).encode(),
            "messages",
            "at least 1",
            id="no-message",
        ),
        pytest.param(
            json.dumps({"model": "echo", "messages": [{"content": "x"}]}).encode(),
            "messages[0].role",
            "no 'role'",
            id="message-without-role",
        ),
        pytest.param(
            json.dumps({"model": 42, "messages": HELLO}).encode(),
            "model",
            "valid string",
            id="model-not-a-string",
        ),
        pytest.param(
            json.dumps({"model": "echo", "messages": HELLO, "temperature": "hot"}).encode(),
            "temperature",
            "valid number",
            id="temperature-not-a-number",
        ),
        pytest.param(
            json.dumps({"model": "echo", "messages": HELLO, "max_tokens": 0}).encode(),
            "max_tokens",
            "greater than or equal to 1",
            id="max-tokens-zero",
        ),
        pytest.param(
            json.dumps({"model": "echo", "messages": HELLO, "stream": "yes"}).encode(),
            "stream",
            "valid boolean",
            id="stream-not-a-bool",
        ),
        pytest.param(
            json.dumps({"model": "echo", "messages": HELLO, "api_base": "http://evil"}).encode(),
            "api_base",
            "cannot be set by a client",
            id="client-sets-api-base",
        ),
    ],
)
def test_bad_chat_body_answers_400_naming_the_param(
    http: httpx.Client, body: bytes, param: str | None, words: str
) -> None:
    resp = http.post(
        "/v1/chat/completions", content=body, headers={"content-type": "application/json"}
    )
    error = error_of(resp, 400)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert words in error["message"]


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        pytest.param("/v1/embeddings", {"model": "echo"}, "input", id="embeddings-no-input"),
        pytest.param(
            "/v1/embeddings",
            {"model": "echo", "input": "x", "encoding_format": "hex"},
            "encoding_format",
            id="embeddings-bad-encoding",
        ),
        pytest.param("/v1/images/generations", {"model": "echo"}, "prompt", id="image-no-prompt"),
        pytest.param("/v1/completions", {"model": "echo"}, "prompt", id="completion-no-prompt"),
        pytest.param(
            "/v1/completions",
            {"model": "echo", "prompt": "x", "suffix": "y"},
            "suffix",
            id="completion-suffix",
        ),
    ],
)
def test_bad_bodies_of_other_routes_answer_400(
    http: httpx.Client, path: str, body: dict[str, Any], param: str
) -> None:
    assert error_of(http.post(path, json=body), 400)["param"] == param


def test_unknown_model_answers_404_model_not_found_with_the_served_names(
    http: httpx.Client,
) -> None:
    resp = http.post("/v1/chat/completions", json={"model": "ecko", "messages": HELLO})
    error = error_of(resp, 404)
    assert error["code"] == "model_not_found"
    assert "did you mean 'echo'?" in error["message"]


def test_oversized_body_answers_413(http: httpx.Client) -> None:
    big = "x" * (1024 * 1024 + 1)  # the test config allows 1 MiB
    resp = http.post(
        "/v1/chat/completions",
        json={"model": "echo", "messages": [{"role": "user", "content": big}]},
    )
    error = error_of(resp, 413)
    assert "max_request_size_mb" in error["message"]


def test_oversized_body_without_content_length_answers_413(http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"model": "echo", "messages": [{"role": "user", "content": "'
        for _ in range(65):
            yield b"x" * 16384
        yield b'"}]}'

    resp = http.post("/v1/chat/completions", content=chunks())
    error_of(resp, 413)


def test_wrong_method_answers_405_with_allow(http: httpx.Client) -> None:
    resp = http.get("/v1/chat/completions")
    error = error_of(resp, 405)
    assert resp.headers["allow"] == "POST"
    assert "use POST" in error["message"]


def test_unknown_route_answers_404_in_openai_shape(http: httpx.Client) -> None:
    error = error_of(http.post("/v1/responses", json={}), 404)
    assert "/v1/chat/completions" in error["message"]


# -- failing handlers -------------------------------------------------------------------------


def test_handler_error_keeps_its_status_with_retry_after_on_429(http: httpx.Client) -> None:
    resp = http.post("/v1/chat/completions", json={"model": "fail", "messages": HELLO})
    error = error_of(resp, 429)
    assert error["type"] == "rate_limit_error"
    assert "the backend is rate limited" in error["message"]
    assert resp.headers["retry-after"] == "1"


def test_handler_error_is_answered_once_not_retried(
    http: httpx.Client, proxy: ProxyProcess
) -> None:
    rid = "once-" + str(time.monotonic_ns())
    resp = http.post(
        "/v1/chat/completions",
        json={"model": "fail", "messages": HELLO},
        headers={"x-request-id": rid},
    )
    assert resp.status_code == 429
    assert proxy.wait_for_log(rf"\[{rid}\] llmctl.access")
    assert proxy.log.count(f"[{rid}]") == 1


def test_handler_that_raises_answers_500_without_a_traceback(http: httpx.Client) -> None:
    resp = http.post("/v1/chat/completions", json={"model": "crash", "messages": HELLO})
    error = error_of(resp, 500)
    assert "ValueError: the handler has a bug" in error["message"]


def test_handler_that_hangs_past_its_timeout_answers_504(http: httpx.Client) -> None:
    start = time.monotonic()
    resp = http.post("/v1/chat/completions", json={"model": "hang", "messages": HELLO})
    error = error_of(resp, 504)
    assert time.monotonic() - start < 10
    assert "did not answer within 1 s" in error["message"]
    assert error["type"] == "timeout_error"


def test_stream_that_hangs_before_its_first_chunk_answers_504(http: httpx.Client) -> None:
    resp = http.post(
        "/v1/chat/completions", json={"model": "hang", "messages": HELLO, "stream": True}
    )
    error_of(resp, 504)


def test_sync_handler_blocking_its_thread_leaves_other_requests_served(
    http: httpx.Client, proxy: ProxyProcess
) -> None:
    blocked: list[httpx.Response] = []

    def block() -> None:
        with proxy.client(headers=AUTH) as client:
            blocked.append(
                client.post(
                    "/v1/chat/completions",
                    json={"model": "blocking", "messages": HELLO, "seconds": 3},
                )
            )

    thread = threading.Thread(target=block)
    thread.start()
    time.sleep(0.3)  # the blocking call is under way
    for _ in range(5):
        resp = http.post("/v1/chat/completions", json={"model": "echo", "messages": HELLO})
        assert resp.status_code == 200
    assert thread.is_alive(), "the echo requests waited for the blocked one"
    thread.join()
    assert blocked[0].json()["choices"][0]["message"]["content"] == "done blocking"


# -- streams that fail ------------------------------------------------------------------------


def test_stream_failing_before_its_first_chunk_answers_its_status_not_200(
    http: httpx.Client,
) -> None:
    resp = http.post(
        "/v1/chat/completions", json={"model": "fail", "messages": HELLO, "stream": True}
    )
    error = error_of(resp, 503)
    assert "the backend is down" in error["message"]


def test_stream_failing_after_its_first_chunk_sends_an_error_event_then_done(
    http: httpx.Client,
) -> None:
    resp = http.post(
        "/v1/chat/completions", json={"model": "crash", "messages": HELLO, "stream": True}
    )
    assert resp.status_code == 200
    events = [e.removeprefix("data: ") for e in resp.text.split("\n\n") if e]
    assert events[-1] == "[DONE]"
    error = json.loads(events[-2])["error"]
    assert "ValueError: the stream broke" in error["message"]
    chunks = [json.loads(e) for e in events[:-2]]
    assert "".join(c["choices"][0]["delta"]["content"] or "" for c in chunks) == "one two "
    # No finish_reason is invented for a stream that broke.
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks)


def test_openai_client_raises_on_a_mid_stream_error(proxy: ProxyProcess) -> None:
    import openai

    with openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=MASTER_KEY, max_retries=0) as api:
        stream = api.chat.completions.create(model="crash", messages=HELLO, stream=True)  # type: ignore[arg-type]
        with pytest.raises(openai.APIError, match="the stream broke"):
            list(stream)


# -- clients that leave -----------------------------------------------------------------------


def wait_for(path: Path, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared: the handler's work was not cancelled")


def test_client_leaving_a_stream_closes_the_handlers_stream(
    proxy: ProxyProcess, tmp_path: Path
) -> None:
    marker = tmp_path / "closed"
    body = {"model": "slow", "messages": HELLO, "stream": True, "marker": str(marker)}
    with (
        proxy.client(headers=AUTH) as client,
        client.stream("POST", "/v1/chat/completions", json=body) as resp,
    ):
        assert resp.status_code == 200
        next(resp.iter_bytes())
    assert wait_for(marker) == "closed"


def test_client_leaving_a_call_cancels_the_handler(proxy: ProxyProcess, tmp_path: Path) -> None:
    marker = tmp_path / "cancelled"
    body = {"model": "slow", "messages": HELLO, "marker": str(marker)}
    with proxy.client(headers=AUTH, timeout=0.5) as client, pytest.raises(httpx.ReadTimeout):
        client.post("/v1/chat/completions", json=body)
    assert wait_for(marker) == "cancelled"
