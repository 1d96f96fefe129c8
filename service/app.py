"""The Starlette application: GraphQL (with an offline GraphiQL), health and readiness."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from neo4j.exceptions import Neo4jError, ServiceUnavailable
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket

from service.api.context import Context
from service.api.schema import schema
from service.database import Graph, Neo4jConnection
from service.graphiql import OfflineGraphQL, asset_route

log = logging.getLogger("accountgraph")
EXAMPLE_QUERY = (Path(__file__).parent / "api" / "example_query.graphql").read_text()


class GraphQLApp(OfflineGraphQL):
    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket | None) -> Context:
        return Context(request=request, response=response, graph=request.app.state.graph)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    try:
        await request.app.state.graph.ping()
    except (ServiceUnavailable, Neo4jError, OSError) as error:
        return JSONResponse({"status": "unavailable", "neo4j": type(error).__name__}, status_code=503)
    return JSONResponse({"status": "ready"})


async def home(request: Request) -> RedirectResponse:
    return RedirectResponse("/graphql")


def create_app(connection: Neo4jConnection) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.graph = Graph(connection)
        try:
            await app.state.graph.migrate()
        except (ServiceUnavailable, OSError) as error:
            log.warning("Neo4j not reachable at start-up (%s); /readyz will say when it is", type(error).__name__)
        try:
            yield
        finally:
            await app.state.graph.close()

    return Starlette(
        routes=[
            Route("/", home),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", GraphQLApp(schema, default_query=EXAMPLE_QUERY)),
            asset_route(),
        ],
        lifespan=lifespan,
    )
