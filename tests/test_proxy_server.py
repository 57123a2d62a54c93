"""``llmctl serve`` start-up and shutdown, as real processes: what it refuses, what it says."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import httpx
import pytest

from conftest import PROXY_DATA, SitePackages
from llmctl.proxy.auth import bind_problem
from serving import ProxyProcess, run_serve

HELLO = [{"role": "user", "content": "Hello"}]
STRONG = "sk-" + "strong-enough-key-" * 2


def write_config(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "config.yaml"
    config.write_text(text)
    (tmp_path / "handlers.py").write_text((PROXY_DATA / "handlers.py").read_text())
    return config


MINIMAL = """
model_list:
  - {model_name: echo, litellm_params: {model: test/echo}}
litellm_settings:
  custom_provider_map: [{provider: test, custom_handler: handlers.test_llm}]
"""


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("general", "words"),
    [
        pytest.param("", "without a master key", id="no-key"),
        pytest.param("general_settings: {master_key: sk-1234}", "weak master key", id="weak"),
    ],
)
def test_serving_beyond_loopback_without_a_strong_key_is_refused(
    tmp_path: Path, general: str, words: str
) -> None:
    config = write_config(tmp_path, MINIMAL + general)
    done = run_serve(["--config", str(config), "--host", "0.0.0.0", "--port", "0"])
    assert done.returncode == 1
    assert words in done.stderr
    assert "sk-1234" not in done.stderr
    assert "Uvicorn running" not in done.stderr


def test_bind_policy_allows_what_the_config_allows_explicitly() -> None:
    assert bind_problem("0.0.0.0", None, allow_remote_without_key=True) is None
    assert bind_problem("10.0.0.5", STRONG, allow_remote_without_key=False) is None
    assert bind_problem("::1", None, allow_remote_without_key=False) is None
    assert bind_problem("localhost", "sk-1234", allow_remote_without_key=False) is None


def test_weak_key_on_loopback_is_accepted_with_a_warning(tmp_path: Path) -> None:
    config = write_config(tmp_path, MINIMAL + "general_settings: {master_key: sk-1234}")
    server = ProxyProcess(["--config", str(config)]).start()
    try:
        with server.client(headers={"authorization": "Bearer sk-1234"}) as http:
            resp = http.post("/v1/chat/completions", json={"model": "echo", "messages": HELLO})
        assert resp.status_code == 200
        assert "the master_key is weak" in server.log
    finally:
        server.stop()
    assert "sk-1234" not in server.log


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param(
            "model_list:\n  - {model_name: m, litellm_params: {api_base: http://x}}",
            "model_list[0].litellm_params.model: required",
            id="missing-model",
        ),
        pytest.param(
            "model_list: [{model_name: m, litellm_params: {model: a/b, timeout: soon}}]",
            "model_list[0].litellm_params.timeout",
            id="bad-timeout",
        ),
        pytest.param("model_list: [oops", "not valid YAML", id="bad-yaml"),
        pytest.param(
            "litellm_settings:\n  custom_provider_map: [{provider: p, custom_handler: nowhere.h}]",
            "litellm_settings.custom_provider_map[0].custom_handler: no module 'nowhere'",
            id="missing-handler-module",
        ),
        pytest.param(
            "model_list: [{model_name: m, litellm_params: {model: a/b, api_key: os.environ/NOPE}}]",
            "config.yaml: model_list[0].litellm_params.api_key: the environment variable 'NOPE'",
            id="unset-variable",
        ),
    ],
)
def test_config_errors_stop_start_up_naming_the_yaml_path(
    tmp_path: Path, text: str, words: str
) -> None:
    config = write_config(tmp_path, text)
    done = run_serve(["--config", str(config), "--port", "0"])
    assert done.returncode == 1
    assert words in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr  # one line: Error: ...


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    done = run_serve(["--config", str(tmp_path / "nope.yaml")])
    assert done.returncode == 1
    assert "cannot read the config file" in done.stderr


def test_litellm_config_with_unknown_settings_loads_and_names_them(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "litellm_settings:\n", "litellm_settings:\n  success_callback: [langfuse]\n"
    )
    config = write_config(tmp_path, text + "router_settings: {routing_strategy: simple-shuffle}")
    server = ProxyProcess(["--config", str(config)]).start()
    server.stop()
    assert "ignores these settings: router_settings, litellm_settings.success_callback" in (
        server.log
    )


# -- no config: the installed providers ------------------------------------------------------


def test_without_a_config_every_installed_provider_is_served(site: SitePackages) -> None:
    site.add(
        "llmctl-proxyecho",
        {
            "litellm.providers": {
                "proxyecho": "proxyecho_plugin:handler",
                "proxyimages": "proxyecho_plugin:images",
            }
        },
        {
            "proxyecho_plugin": (
                "from llmctl import CustomLLM, ModelResponse\n"
                "class Echo(CustomLLM):\n"
                "    def completion(self, model, messages, **kwargs):\n"
                "        return ModelResponse(choices=[{'message': {'content': model}}])\n"
                "class Images(CustomLLM):\n"
                "    def image_generation(self, model, prompt, **kwargs):\n"
                "        raise AssertionError('a probe never bills an image')\n"
                "handler, images = Echo(), Images()\n"
            )
        },
    )
    server = ProxyProcess(
        [],
        env={"PYTHONPATH": str(site.root), "LLMCTL_LOAD_PLUGINS": "llmctl-proxyecho"},
    ).start()
    try:
        with server.client() as http:
            resp = http.post(
                "/v1/chat/completions", json={"model": "proxyecho/any-name", "messages": HELLO}
            )
            models = http.get("/v1/models").json()["data"]
            probe_all = http.get("/health?probe=completion").json()
            probe_one = http.get("/health?probe=completion&model=proxyecho/llama").json()
            probe_images = http.get("/health?probe=completion&model=proxyimages/x").json()
    finally:
        server.stop()
    assert resp.json()["choices"][0]["message"]["content"] == "any-name"
    # A wildcard names no model to probe until the request names one.
    (unchecked,) = probe_all["unchecked_endpoints"]  # one catch-all entry
    assert unchecked["models"] == ["*"]
    assert unchecked["error"].startswith("the wildcard '*' names no model to call")
    (probed,) = probe_one["healthy_endpoints"]
    assert (probed["models"], probed["provider"], probed["answer"]) == (
        ["proxyecho/llama"],
        "proxyecho",
        "llama",
    )
    (images,) = probe_images["unchecked_endpoints"]
    assert images["error"].startswith("it serves only images: a probe would bill an image")
    assert models == [
        {
            "id": f"{provider}/*",
            "object": "model",
            "created": models[0]["created"],
            "owned_by": "llmctl-proxyecho",
            "provider": provider,
            "capabilities": [capability],
        }
        for provider, capability in (("proxyecho", "chat"), ("proxyimages", "images"))
    ]
    assert "every installed provider" in server.log


# -- shutdown and workers --------------------------------------------------------------------


def test_shutdown_lets_an_in_flight_stream_finish(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        MINIMAL.replace(
            "{model_name: echo, litellm_params: {model: test/echo}}",
            "{model_name: slow, litellm_params: {model: test/slow}}",
        ),
    )
    server = ProxyProcess(["--config", str(config)]).start()
    body = {"model": "slow", "messages": HELLO, "stream": True, "chunks": 20, "every": 0.05}
    received: list[bytes] = []
    first = threading.Event()

    def read() -> None:
        with (
            httpx.Client(base_url=server.url, timeout=30) as http,
            http.stream("POST", "/v1/chat/completions", json=body) as resp,
        ):
            for part in resp.iter_bytes():
                received.append(part)
                first.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert first.wait(10)
    # SIGTERM while the stream runs; uvicorn re-raises it once the shutdown is done.
    assert server.stop() in (0, -signal.SIGTERM)
    reader.join(10)
    text = b"".join(received).decode()
    assert text.endswith("data: [DONE]\n\n")
    assert '"finish_reason":"stop"' in text
    assert text.count("data: ") == 20 + 1 + 1  # the chunks, the finish chunk, [DONE]


@pytest.mark.slow
def test_workers_serve_the_same_config(tmp_path: Path) -> None:
    config = write_config(tmp_path, MINIMAL)
    server = ProxyProcess(["--config", str(config), "--workers", "2"]).start()
    try:
        with server.client() as http:
            answers = [
                http.post("/v1/chat/completions", json={"model": "echo", "messages": HELLO})
                for _ in range(6)
            ]
    finally:
        assert server.stop() in (0, -signal.SIGTERM)
    assert {a.status_code for a in answers} == {200}
