"""An id for every HTTP request and WebSocket: the caller's `X-Request-Id` when it is well-formed (so a
proxy's or client's id follows the request through), else a new one. It is sent back in X-Request-Id,
named in GraphQL errors (`extensions.requestId`) and in every log line written while the request is
served (service.logs reads it from a context variable), so that a report from a client finds its lines."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.logs import current_request_id

HEADER = "X-Request-Id"
# What is taken from a caller: up to 128 characters of letters, digits and . _ : / + = - (a UUID, a
# trace id, base64). Anything else (spaces, quotes, control characters, longer) is replaced, never logged.
WELL_FORMED = re.compile(r"\A[A-Za-z0-9._:/+=-]{1,128}\Z")


def new_request_id() -> str:
    return uuid.uuid4().hex


def accepted_request_id(presented: str | None) -> str:
    """The caller's id if well-formed, else a new one."""
    return presented if presented is not None and WELL_FORMED.match(presented) else new_request_id()


class RequestId:
    """Plain ASGI middleware, outermost: the id is in the scope's state (request.state.request_id) and in
    the context variable before anything else runs, and on every HTTP answer, refusals included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = accepted_request_id(Headers(scope=scope).get(HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        token = current_request_id.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append(HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)
        finally:
            current_request_id.reset(token)
