"""Every HTTP request timed (service.metrics: by method, route template and status) and logged in one
access line (logger `accountgraph.access`: method, path, route, status, duration_ms, the GraphQL
operation and the API key's id when there are; never the key). Plain ASGI middleware inside RequestId,
so the line carries the request's id; probes and scrapes are logged at DEBUG only."""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.metrics import HTTP_SECONDS

log = logging.getLogger("accountgraph.access")
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
UNMATCHED = "unmatched"


def route_of(routes: list[BaseRoute], scope: Scope) -> str:
    """The path template of the route that serves the request ('/activations/{id}/files/{name}'), so the
    label does not grow with ids; 'unmatched' for a path no route serves (a 404)."""
    for route in routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            return str(getattr(route, "path", UNMATCHED))
    return UNMATCHED


class HttpMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless an answer starts: the application failed before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            seconds = time.perf_counter() - started
            route = route_of(scope["app"].routes, scope) if "app" in scope else UNMATCHED
            HTTP_SECONDS.labels(scope["method"], route, str(status)).observe(seconds)
            _access_line(scope, route, status, seconds)


def _access_line(scope: Scope, route: str, status: int, seconds: float) -> None:
    level = logging.DEBUG if scope["path"] in QUIET_PATHS and status < 500 else logging.INFO
    if not log.isEnabledFor(level):
        return
    state: dict[str, Any] = scope.get("state") or {}
    fields: dict[str, Any] = {"method": scope["method"], "path": scope["path"], "route": route, "status": status,
                              "duration_ms": round(seconds * 1000, 2)}
    if operation := state.get("graphql_operation"):
        fields["operation"] = operation
    if key := state.get("api_key"):
        fields["key_id"] = key.id
    log.log(level, "%s %s %d %.1f ms", scope["method"], scope["path"], status, seconds * 1000, extra=fields)
