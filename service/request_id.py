"""An id for every HTTP request and WebSocket: sent back in X-Request-Id, and named by the log line
of an internal error, so that a report from a client finds the traceback."""

from __future__ import annotations

import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-Id"


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestId:
    """Plain ASGI middleware, outermost: the id is in the scope's state (request.state.request_id)
    before anything else runs, and on every HTTP answer, refusals included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(HEADER, request_id)
            await send(message)

        await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)
