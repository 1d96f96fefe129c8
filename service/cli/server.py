"""Commands for the local Neo4j server and for serving the API."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import uvicorn

from service.cli.common import Commands, with_graph
from service.cli.data import seed_and_report
from service.config import Settings
from service.database import Graph
from service.neo4j_provider import ProvidedNeo4j, docker_engine_available, local_server, provide_neo4j


def cmd_db(settings: Settings, arguments: argparse.Namespace) -> None:
    if settings.neo4j_uri:
        print(f"NEO4J_URI is set ({settings.neo4j_uri}): that server is managed elsewhere.")
        return
    if arguments.action != "install" and docker_engine_available():
        print("A Docker engine answers: use `docker compose up|stop|ps neo4j` for its Neo4j.")
        return
    server = local_server(settings)
    if arguments.action == "install":
        print(f"Neo4j server jars ready in {server.lib}")
    elif arguments.action == "start":
        pid = server.start()
        print(f"Neo4j running (pid {pid}): {server.uri}, Browser {server.browser_url}")
    elif arguments.action == "stop":
        print("Neo4j stopped." if server.stop() else "Neo4j was not running.")
    else:
        pid = server.running_pid()
        print(f"Neo4j running (pid {pid}): {server.uri}" if pid else "Neo4j is not running.")
        if not pid:
            raise SystemExit(3)


def _banner(settings: Settings, neo4j: ProvidedNeo4j) -> str:
    base = f"http://{settings.host}:{settings.port}"
    lines = [
        f"GraphiQL:      {base}/graphql  (the Townsend query is preloaded: press the run button)",
        f"Neo4j ({neo4j.kind}): {neo4j.connection.uri}  database {neo4j.connection.database!r}",
    ]
    if neo4j.browser_url:
        lines.append(f"Neo4j Browser: {neo4j.browser_url}  (user {neo4j.connection.user!r}, "
                     f"password from NEO4J_PASSWORD; default 'accountgraph')")
    return "\n".join(lines)


def _serve(settings: Settings, neo4j: ProvidedNeo4j) -> None:
    from service.app import create_app  # the web stack is not needed by the other commands

    print(_banner(settings, neo4j), flush=True)
    app = create_app(neo4j.connection, settings.live_poll_seconds, settings.live_sweep_seconds)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")


def cmd_serve(settings: Settings, arguments: argparse.Namespace) -> None:
    _serve(settings, provide_neo4j(settings))


async def _migrate_and_seed(graph: Graph, seed_dir: Path) -> None:
    await graph.migrate()
    await seed_and_report(graph, seed_dir)


def cmd_run(settings: Settings, arguments: argparse.Namespace) -> None:
    """Start Neo4j, migrate, seed, serve; stop the Neo4j it started on Ctrl-C."""
    neo4j = provide_neo4j(settings)
    try:
        asyncio.run(with_graph(neo4j.connection, lambda graph: _migrate_and_seed(graph, settings.seed_dir)))
        _serve(settings, neo4j)
    finally:
        print("Stopping Neo4j ...", flush=True)
        neo4j.stop()


def register(commands: Commands) -> None:
    db = commands.add_parser("db", help="the local Neo4j server (when no NEO4J_URI and no Docker)")
    db.add_argument("action", choices=["install", "start", "stop", "status"])
    db.set_defaults(handler=cmd_db)
    commands.add_parser("serve", help="serve the GraphQL API").set_defaults(handler=cmd_serve)
    commands.add_parser("run", help="start Neo4j, migrate, seed and serve").set_defaults(handler=cmd_run)
