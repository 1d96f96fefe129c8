"""The `accountgraph` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

import uvicorn

from service.config import Settings, get_settings
from service.database import Graph, Neo4jConnection
from service.generate import DEFAULT_AS_OF, generate
from service.ingest.errors import ImportRejected
from service.neo4j_provider import ProvidedNeo4j, docker_engine_available, local_server, provide_neo4j
from service.neo4j_server import Neo4jServerError
from service.ingest.pipeline import ingest_path
from service.ingest.progress import ProgressBar
from service.seed import seed


async def _with_graph(connection: Neo4jConnection, work: Callable[[Graph], Awaitable[None]]) -> None:
    graph = Graph(connection)
    try:
        await work(graph)
    finally:
        await graph.close()


async def _migrate_and_seed(graph: Graph, seed_dir: Path) -> None:
    await graph.migrate()
    for report in await seed(graph, seed_dir):
        print(f"Seeded {report}")


async def _migrate_and_ingest(graph: Graph, arguments: argparse.Namespace) -> None:
    await graph.migrate()
    with ProgressBar(f"Ingesting {arguments.path}") as bar:
        report = await ingest_path(graph, arguments.path, arguments.source, mdm=arguments.mdm, progress=bar.advance)
    print(f"Ingested {report}")


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


def cmd_migrate(settings: Settings, arguments: argparse.Namespace) -> None:
    neo4j = provide_neo4j(settings)
    asyncio.run(_with_graph(neo4j.connection, lambda graph: graph.migrate()))
    print("Schema up to date.")


def cmd_ingest(settings: Settings, arguments: argparse.Namespace) -> None:
    neo4j = provide_neo4j(settings)
    try:
        asyncio.run(_with_graph(neo4j.connection, lambda graph: _migrate_and_ingest(graph, arguments)))
    except ImportRejected as rejected:
        if arguments.report:
            rejected.write_report(arguments.report)
            print(f"Errors written to {arguments.report}", file=sys.stderr)
        raise


def cmd_seed(settings: Settings, arguments: argparse.Namespace) -> None:
    neo4j = provide_neo4j(settings)
    asyncio.run(_with_graph(neo4j.connection, lambda graph: _migrate_and_seed(graph, arguments.dir)))


def cmd_generate(settings: Settings, arguments: argparse.Namespace) -> None:
    print(generate(arguments.out, arguments.people, arguments.seed, arguments.as_of))


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
    uvicorn.run(create_app(neo4j.connection), host=settings.host, port=settings.port, log_level="info")


def cmd_serve(settings: Settings, arguments: argparse.Namespace) -> None:
    _serve(settings, provide_neo4j(settings))


def cmd_run(settings: Settings, arguments: argparse.Namespace) -> None:
    """Start Neo4j, migrate, seed, serve; stop the Neo4j it started on Ctrl-C."""
    neo4j = provide_neo4j(settings)
    try:
        asyncio.run(_with_graph(neo4j.connection, lambda graph: _migrate_and_seed(graph, settings.seed_dir)))
        _serve(settings, neo4j)
    finally:
        print("Stopping Neo4j ...", flush=True)
        neo4j.stop()


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="accountgraph", description=__doc__)
    commands = main.add_subparsers(dest="command", required=True)
    db = commands.add_parser("db", help="the local Neo4j server (when no NEO4J_URI and no Docker)")
    db.add_argument("action", choices=["install", "start", "stop", "status"])
    db.set_defaults(handler=cmd_db)
    commands.add_parser("migrate", help="apply constraints and indexes").set_defaults(handler=cmd_migrate)
    seed_command = commands.add_parser("seed", help="load a seed folder (idempotent)")
    seed_command.add_argument("--dir", type=Path, default=get_settings().seed_dir)
    seed_command.set_defaults(handler=cmd_seed)
    ingest = commands.add_parser("ingest", help="import a source's export folder or file, or the MDM crosswalk")
    which = ingest.add_mutually_exclusive_group(required=True)
    which.add_argument("--source", help='the source instance, e.g. "Marketo 1"')
    which.add_argument("--mdm", action="store_true", help="the path holds MDM same-company links")
    ingest.add_argument("--report", type=Path, help="write the errors of a rejected import to this CSV file")
    ingest.add_argument("path", type=Path)
    ingest.set_defaults(handler=cmd_ingest)
    generate_command = commands.add_parser("generate", help="write a synthetic multi-source export (deterministic)")
    generate_command.add_argument("--people", type=int, required=True, help="how many people (accounts: a tenth)")
    generate_command.add_argument("--seed", type=int, default=42)
    generate_command.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF,
                                  help="the day visits and close dates are relative to (YYYY-MM-DD)")
    generate_command.add_argument("out", type=Path)
    generate_command.set_defaults(handler=cmd_generate)
    commands.add_parser("serve", help="serve the GraphQL API").set_defaults(handler=cmd_serve)
    commands.add_parser("run", help="start Neo4j, migrate, seed and serve").set_defaults(handler=cmd_run)
    return main


def main(argv: list[str] | None = None) -> None:
    arguments = parser().parse_args(argv)
    try:
        arguments.handler(get_settings(), arguments)
    except ImportRejected as rejected:
        print(rejected, file=sys.stderr)
        raise SystemExit(1) from None
    except Neo4jServerError as error:
        print(f"accountgraph: {error}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
