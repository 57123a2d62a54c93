"""``llmctl.testserver.LoopbackServer``: a fake backend on 127.0.0.1 for the length of a block."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from llmctl.testserver import LoopbackServer


async def hello(request: Request) -> Response:
    return JSONResponse({"hello": request.url.path})


APP = Starlette(routes=[Route("/{path:path}", hello)])


def test_serves_the_app_on_a_free_loopback_port_until_the_block_ends() -> None:
    with LoopbackServer(APP) as server:
        assert server.url.startswith("http://127.0.0.1:")
        port = int(server.url.rsplit(":", 1)[1])
        assert port > 0
        assert httpx.get(server.url + "/there").json() == {"hello": "/there"}
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/there")
    with socket.socket() as again:  # the port is free to bind once more
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))


def test_stop_closes_open_keep_alive_connections() -> None:
    with httpx.Client() as client:
        server = LoopbackServer(APP).start()
        assert client.get(server.url + "/a").status_code == 200  # a kept-alive connection
        server.stop()
        with pytest.raises(httpx.TransportError):
            client.get(server.url + "/a")


def test_two_servers_get_two_ports() -> None:
    with LoopbackServer(APP) as one, LoopbackServer(APP) as two:
        assert one.url != two.url
        assert httpx.get(two.url + "/b").json() == {"hello": "/b"}


def test_stop_before_start_and_twice_does_nothing() -> None:
    server = LoopbackServer(APP)
    server.stop()
    with server:
        pass
    server.stop()


def test_a_server_that_cannot_bind_fails_to_start_saying_why() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = LoopbackServer(APP, port=taken.getsockname()[1], log_level="critical")
        with pytest.raises(RuntimeError, match="the loopback server failed to start"):
            server.start()


def test_uvicorn_settings_pass_through_but_the_host_stays_loopback() -> None:
    with LoopbackServer(APP, host="localhost", timeout_keep_alive=1, lifespan="off") as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert httpx.get(server.url + "/c").status_code == 200


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def uvicorn_errors() -> Iterator[list[logging.LogRecord]]:
    logger = logging.getLogger("uvicorn.error")
    records = Records()
    logger.addHandler(records)
    yield records.records
    logger.removeHandler(records)


def test_a_handler_still_running_at_stop_is_cancelled_quietly(
    uvicorn_errors: list[logging.LogRecord],
) -> None:
    async def slow(request: Request) -> Response:
        await asyncio.sleep(5)
        return Response()

    with (
        LoopbackServer(Starlette(routes=[Route("/slow", slow)])) as server,
        pytest.raises(httpx.ReadTimeout),
    ):
        httpx.get(server.url + "/slow", timeout=0.1)
    assert [r.getMessage() for r in uvicorn_errors if r.levelno >= logging.ERROR] == []
