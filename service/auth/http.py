"""The HTTP side of access: which requests need a key, where a key is read from, the 401 answer,
and the cap on request bodies. Both are plain ASGI middleware around the whole application, so
a route added later is closed until it is listed as open here."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.auth.keys import parse
from service.auth.rate import RateLimits
from service.auth.store import EXPIRED, INVALID, REVOKED, KeyChecker, Unauthenticated
from service.database import DatabaseUnavailable
from service.errors import ErrorCode

log = logging.getLogger("accountgraph")

GRAPHQL_PATH = "/graphql"
# Probes, the redirect to GraphiQL, GraphiQL's own files, the explorer's page and files, and the Neo4j
# Browser's style and guide (service.neo4j_browser): nothing in them reads the graph (the explorer's
# queries carry the user's key like any other). /metrics takes no API key: it is open, or closed by a
# token of its own (METRICS_TOKEN; service.scrape).
OPEN_PATHS = frozenset({"/", "/healthz", "/readyz", "/metrics", "/explorer"})
OPEN_PREFIXES = ("/graphiql/assets/", "/explorer/assets/", "/neo4j-browser/")
BODY_LIMITED_PATHS = frozenset({GRAPHQL_PATH, "/events"})


def presented_key(headers: Mapping[str, Any]) -> str | None:
    """The key of `Authorization: Bearer <key>` or `X-API-Key: <key>` (names in any case).

    The same for HTTP headers and for the payload of a WebSocket's connection_init.
    """
    lowered = {str(name).lower(): value for name, value in headers.items() if isinstance(value, str)}
    authorization = lowered.get("authorization")
    if authorization is not None:
        scheme, _, key = authorization.strip().partition(" ")
        return key.strip() if scheme.lower() == "bearer" else None
    return lowered.get("x-api-key") or None


def log_refusal(where: str, presented: str | None, reason: str) -> None:
    """A refused key is worth a line (someone holds a revoked key, or is guessing); never the key,
    only its id, which is not secret. A request without any key is not logged: browsers make them."""
    if presented:
        parsed = parse(presented)
        log.warning("%s refused: %s%s", where, reason, f" (key id {parsed.id})" if parsed else " (not a key)")


def _is_open(scope: Scope) -> bool:
    path: str = scope["path"]
    if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES):
        return True
    # The GraphiQL page: a GET without a query executes nothing. Its requests carry the key from
    # the headers editor like any other client's.
    return (path == GRAPHQL_PATH and scope["method"] in ("GET", "HEAD")
            and "query" not in QueryParams(scope["query_string"]))


def error_response(scope: Scope, status: int, message: str, code: ErrorCode,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """GraphQL's error shape on /graphql (with the request's id, as every GraphQL error has), so GraphiQL
    and GraphQL clients show it; `error` elsewhere."""
    extensions = {"code": code.value}
    if request_id := (scope.get("state") or {}).get("request_id"):
        extensions["requestId"] = request_id
    body: dict[str, Any] = ({"errors": [{"message": message, "extensions": extensions}]}
                            if scope["path"] == GRAPHQL_PATH else {"error": message})
    return JSONResponse(body, status_code=status, headers=headers)


class RequireApiKey:
    """Refuses with 401 any HTTP request outside the open paths that lacks a valid, unrevoked key,
    and with 429 (and Retry-After) one whose key is over its rate limit (service.auth.rate); the key
    that passed is left in the request's state for the GraphQL context. While Neo4j, where keys are
    kept, is out of reach, such a request is answered 503 (with Retry-After).

    WebSockets pass: a subscription presents its key in connection_init (see service.app)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_open(scope):
            await self.app(scope, receive, send)
            return
        checker: KeyChecker = scope["app"].state.keys
        presented = presented_key(Headers(scope=scope))
        try:
            key = await checker.authenticate(presented)
        except Unauthenticated as refused:
            message = str(refused)
            log_refusal(f"{scope['method']} {scope['path']}", presented, message)
            challenge = 'Bearer realm="accountgraph"'
            if message in (INVALID, REVOKED, EXPIRED):
                challenge += ', error="invalid_token"'
            response = error_response(scope, 401, message, refused.code, {"WWW-Authenticate": challenge})
            await response(scope, receive, send)
            return
        except DatabaseUnavailable as unavailable:
            response = error_response(scope, 503, str(unavailable), unavailable.code, {"Retry-After": "5"})
            await response(scope, receive, send)
            return
        limits: RateLimits = scope["app"].state.rate_limits
        if wait := limits.take(key.id):
            message = (f"the API key {key.id} is over its rate limit of {limits.per_second:g} requests a second "
                       f"(RATE_LIMIT_PER_SECOND): retry after {wait:.2f} s")
            response = error_response(scope, 429, message, ErrorCode.RATE_LIMITED,
                                      {"Retry-After": str(math.ceil(wait))})
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["api_key"] = key
        await self.app(scope, receive, send)


class LimitBody:
    """413 for a request body over `limit` bytes on the paths that take one, before it is parsed.

    An oversized body is read on (and dropped) up to `drain` bytes before the answer, so a client
    still writing it reads the 413 instead of a reset connection."""

    def __init__(self, app: ASGIApp, limit: int, drain_factor: int = 8) -> None:
        self.app = app
        self.limit = limit
        self.drain = limit * drain_factor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in BODY_LIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.drain:
            await self._too_large(scope, receive, send)  # not worth reading
            return
        body = await self._read(receive)
        if body is None:
            await self._too_large(scope, receive, send)
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The body if it has at most `limit` bytes; else None, once it was read to its end (or to
        `drain` bytes, or the client left)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size <= self.limit:
                chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks) if size <= self.limit else None
            if size > self.drain:
                return None

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        mib = f" ({self.limit / (1 << 20):g} MiB)" if self.limit % (1 << 18) == 0 else ""
        message = f"the request body may have at most {self.limit} bytes{mib}"
        await error_response(scope, 413, message, ErrorCode.BODY_TOO_LARGE)(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed

