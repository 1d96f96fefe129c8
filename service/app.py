"""The Starlette application: GraphQL (with an offline GraphiQL and subscriptions), the event
endpoint, health and readiness, Prometheus metrics (/metrics); and the live loop that keeps saved segments current.

Every request that reads or changes data needs an API key (service.auth.http); subscriptions
present theirs in connection_init. The service starts without Neo4j and follows it going away and
coming back (docs/reliability.md): /healthz answers at once, /readyz once the schema is applied and
Neo4j answers, and requests that need Neo4j while it is out of reach get 503."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict
from pathlib import Path

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Send
from starlette.types import Scope as AsgiScope
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLRequestData
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UnsetType

from service.activation.activate import activation_file
from service.api.context import Context
from service.api.schema import build_schema
from service.auth.http import LimitBody, RequireApiKey, log_refusal, presented_key
from service.auth.keys import Scope
from service.auth.rate import RateLimits
from service.auth.sockets import SocketKeys
from service.auth.store import KeyChecker, Unauthenticated
from service.database import SERVICE_DRIVER, DatabaseUnavailable, DriverTimeouts, Graph, Neo4jConnection, QueryTimeout
from service.explorer import explorer_routes
from service.graphiql import OfflineGraphQL, asset_route
from service.http_metrics import HttpMetrics
from service.ingest.errors import ImportRejected
from service.ingest.events import event_tables
from service.ingest.group_commit import GroupCommit
from service.limits import ApiLimits, GroupWindow, Retention, RetryPolicy
from service.neo4j_browser import routes as neo4j_browser_routes
from service.readiness import Readiness
from service.realtime.broker import Broker
from service.realtime.live import LiveAudiences
from service.request_id import RequestId, new_request_id
from service.scrape import metrics
from service.timeouts import WARMUP_CHECK_SECONDS, WARMUP_SECONDS

log = logging.getLogger("accountgraph")
RETRY_AFTER = {"Retry-After": "5"}
EXAMPLE_QUERY = (Path(__file__).parent / "api" / "example_query.graphql").read_text()


class GraphQLApp(OfflineGraphQL[Context, None]):
    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if scope["type"] == "websocket":  # its key is no longer re-checked
                scope["app"].state.sockets.discard(scope)

    def encode_json(self, data: object) -> str:
        """Answers (over HTTP and WebSocket) written by orjson, about ten times faster than the
        json module: the same JSON values, but other characters than ASCII as UTF-8, not \\u escapes.
        Text, not bytes: WebSocket messages of graphql-transport-ws must be text frames."""
        try:
            return orjson.dumps(data).decode()
        except TypeError:  # what orjson refuses and json writes: an integer past 64 bits, a key not a string
            return json.dumps(data, separators=(",", ":"))

    def decode_json(self, data: str | bytes) -> object:
        """JSON strawberry cannot take answers 400 too (not 500): nested past Python's recursion
        limit (a 100 KB body can be), bytes that are not UTF-8, or a value that is not an object."""
        try:
            decoded = json.loads(data)
        except RecursionError:
            raise HTTPException(400, "Unable to parse request body as JSON: nested too deeply") from None
        except UnicodeDecodeError as error:
            raise HTTPException(400, f"Unable to parse request body as JSON: not UTF-8 ({error.reason})") from None
        if not isinstance(decoded, (dict, list)):  # strawberry would fail on `null` or `5` with a 500
            raise HTTPException(400, "the request body must be a JSON object")
        return decoded

    async def execute_single(self, request: Request, request_adapter: AsyncHTTPRequestAdapter,
                             sub_response: Response, context: Context, root_value: None,
                             request_data: GraphQLRequestData) -> ExecutionResult:
        """Strawberry runs a subscription POSTed as plain JSON like a query, which can only answer
        'Cannot return null': say where subscriptions are served instead."""
        query = request_data.query
        if isinstance(query, str) and "subscription" in query and _is_subscription(query, request_data.operation_name):
            raise HTTPException(400, "subscriptions are served over WebSocket on /graphql (graphql-transport-ws), "
                                     "not over HTTP")
        return await super().execute_single(request=request, request_adapter=request_adapter, sub_response=sub_response,
                                            context=context, root_value=root_value, request_data=request_data)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket | None) -> Context:
        state = request.app.state
        # Over HTTP, RequireApiKey has checked the key (none for the open GraphiQL page, which runs
        # nothing); a WebSocket's is checked in on_ws_connect.
        key = getattr(request.state, "api_key", None)
        return Context(request=request, response=response, graph=state.graph, live=state.live, key=key,
                       keys=state.keys, writes=state.writes,
                       request_id=getattr(request.state, "request_id", None) or new_request_id())

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A subscription's key comes in connection_init: {"Authorization": "Bearer <key>"}.
        Without a valid one the socket is closed (4403 Forbidden) before anything runs; with one,
        the key is re-checked every second while the socket is open (service.auth.sockets)."""
        checker: KeyChecker = context.request.app.state.keys
        presented = presented_key(context.connection_params or {})
        try:
            context.key = await checker.authenticate(presented)
        except Unauthenticated as refused:
            log_refusal("WebSocket /graphql", presented, str(refused))
            raise ConnectionRejectionError() from None
        except DatabaseUnavailable as unavailable:  # the key cannot be checked: the socket is closed (4403)
            log.warning("WebSocket /graphql refused: %s", unavailable)
            raise ConnectionRejectionError() from None
        if isinstance(context.request, WebSocket) and presented is not None:
            context.request.app.state.sockets.add(context.request, presented)
        return UnsetType()  # UNSET itself, the singleton; the name UNSET is typed Any


def _is_subscription(query: str, operation_name: str | None) -> bool:
    try:
        operation = get_operation_ast(parse(query), operation_name)
    except GraphQLError:
        return False  # the schema answers the syntax error as usual
    return operation is not None and operation.operation == OperationType.SUBSCRIPTION


async def events(request: Request) -> JSONResponse:
    """POST a JSON batch of events from one source; they are written and evaluated at once.
    (A key with the write scope was checked, and the body's size capped, by the middleware.)"""
    if not request.state.api_key.grants(Scope.WRITE):
        return JSONResponse({"error": "POST /events needs an API key with the 'write' scope"}, status_code=403)
    body = await request.body()
    try:
        source, tables = event_tables(json.loads(body))
        report = await request.app.state.writes.ingest(source, tables)  # web visits: group commit
    except json.JSONDecodeError as error:
        return JSONResponse({"error": f"not JSON: {error.msg}"}, status_code=400)
    except UnicodeDecodeError as error:
        return JSONResponse({"error": f"not UTF-8 ({error.reason} at byte {error.start})"}, status_code=400)
    except RecursionError:
        return JSONResponse({"error": "not accepted: the JSON is nested too deeply"}, status_code=400)
    except ImportRejected as rejected:
        return JSONResponse({"error": "rejected, nothing written",
                             "errors": [asdict(e) for e in rejected.errors[:100]]}, status_code=400)
    except (QueryTimeout, DatabaseUnavailable) as stopped:
        return JSONResponse({"error": str(stopped)}, status_code=503, headers=RETRY_AFTER)
    return JSONResponse({"source": report.source, "records": report.rows, "suppressed": report.suppressed,
                         "seconds": round(report.seconds, 4)})


DOWNLOAD_TYPES = {".csv": "text/csv; charset=utf-8", ".json": "application/json"}


async def activation_download(request: Request) -> Response:
    """GET /activations/{id}/files/{name}: a file of a stored activation (a Marketo list, a LinkedIn
    audience), made from the graph as it is now: a person erased since is not in it. Admin keys only,
    as activating is."""
    if not request.state.api_key.grants(Scope.ADMIN):
        return JSONResponse({"error": "downloading an activation's file needs an API key with the 'admin' scope"},
                            status_code=403)
    name = request.path_params["name"]
    try:
        content = await activation_file(request.app.state.graph, request.path_params["id"], name)
    except (QueryTimeout, DatabaseUnavailable) as stopped:
        return JSONResponse({"error": str(stopped)}, status_code=503, headers=RETRY_AFTER)
    if content is None:
        return JSONResponse({"error": "no such activation, or no file of that name in it"}, status_code=404)
    return Response(content, media_type=DOWNLOAD_TYPES[Path(name).suffix],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    """200 once the schema is applied, the plan cache warmed (service.warmup: what was warmed is in the
    answer) and Neo4j answers a ping (one attempt, a few seconds at most)."""
    ready, body = await request.app.state.readiness.check()
    return JSONResponse(body, status_code=200 if ready else 503, headers=None if ready else RETRY_AFTER)


async def home(request: Request) -> RedirectResponse:
    return RedirectResponse("/graphql")


def create_app(connection: Neo4jConnection, poll_seconds: float = 1.0, sweep_seconds: float = 60.0,
               limits: ApiLimits = ApiLimits(), driver: DriverTimeouts = SERVICE_DRIVER,
               group_window: GroupWindow = GroupWindow(), warm_seconds: float = WARMUP_SECONDS,
               warm_check_seconds: float = WARMUP_CHECK_SECONDS, retention: Retention = Retention(),
               delivery: RetryPolicy = RetryPolicy(), metrics_token: SecretStr | None = None) -> Starlette:
    graphql = GraphQLApp(build_schema(limits), default_query=EXAMPLE_QUERY,
                         subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.graph = Graph(connection, timeout_seconds=limits.query_timeout_seconds, driver=driver)
        app.state.metrics_token = metrics_token  # /metrics is open without one (service.scrape)
        app.state.keys = KeyChecker(app.state.graph)
        app.state.rate_limits = RateLimits(limits.rate_per_second, limits.rate_burst)
        app.state.sockets = SocketKeys(app.state.keys)
        app.state.live = LiveAudiences(app.state.graph, Broker(), poll_seconds, sweep_seconds, retention=retention,
                                       delivery=delivery)
        app.state.writes = GroupCommit(app.state.graph, group_window)
        # Nothing here waits for Neo4j: the schema is applied in the background, retried until it works,
        # then the plan cache is warmed (and again whenever Neo4j comes back); /readyz says ready after.
        app.state.readiness = Readiness(app.state.graph, warm_seconds=warm_seconds, check_seconds=warm_check_seconds)
        # The live loop runs webhook delivery in a task of its own; cancelling the loop stops both.
        tasks = [asyncio.create_task(app.state.readiness.run(), name="schema, warm-up and Neo4j watch"),
                 asyncio.create_task(app.state.live.run(), name="live audiences"),
                 asyncio.create_task(app.state.sockets.run(), name="open WebSockets' keys"),
                 asyncio.create_task(app.state.writes.run(), name="group commit")]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with suppress(asyncio.CancelledError):
                    await task
            await app.state.graph.close()

    return Starlette(
        routes=[
            Route("/", home),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Route("/graphql", graphql),
            WebSocketRoute("/graphql", graphql),
            Route("/events", events, methods=["POST"]),
            Route("/activations/{id}/files/{name}", activation_download),
            asset_route(),
            *explorer_routes(),
            *neo4j_browser_routes(),
        ],
        # The first is the outermost: every answer has its request id, and is timed and logged with it
        # (refusals included); the key is checked before a body is read.
        middleware=[Middleware(RequestId), Middleware(HttpMetrics), Middleware(RequireApiKey),
                    Middleware(LimitBody, limit=limits.max_body_bytes)],
        lifespan=lifespan,
    )
