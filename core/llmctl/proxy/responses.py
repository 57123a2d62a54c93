"""The JSON answer of a route, sent as two ASGI messages and nothing more.

Starlette's ``Response`` works out its headers for each answer and sends both of its messages
through every middleware's ``send`` wrapper. A proxy answering thousands of requests a second
pays for that in each one (#5), so :class:`JSONBody` sends the start through the middleware
(which only look at the start: the request id is added there) and the body straight to the
server.
"""

from __future__ import annotations

from typing import Final

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from llmctl.proxy.tracing import SERVER_SEND

__all__ = ["JSONBody"]

_CONTENT_TYPE: Final = (b"content-type", b"application/json")


class JSONBody(Response):
    """A 200 response holding JSON bytes, with the headers Starlette's ``Response`` would send.

    :param body: the JSON text, already serialised.
    """

    media_type = "application/json"

    def __init__(self, body: bytes) -> None:
        self.status_code = 200
        self.background = None
        self.body = body
        self.raw_headers = [(b"content-length", b"%d" % len(body)), _CONTENT_TYPE]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the start through the middleware and the body straight to the server."""
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        send = scope.get(SERVER_SEND, send)
        await send({"type": "http.response.body", "body": self.body})
