"""Commands for the local Neo4j server and for serving the API."""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn

from service.auth.dev_key import ensure_dev_key
from service.cli.common import Commands, with_graph
from service.cli.data import seed_and_report
from service.config import Settings
from service.database import Graph, Neo4jConnection
from service.logs import LogFormat, logging_config
from service.neo4j_provider import ProvidedNeo4j, docker_engine_available, local_server, provide_neo4j

if TYPE_CHECKING:
    from starlette.applications import Starlette

# uvloop's event loop and httptools' HTTP parser, both dependencies: named, not left to uvicorn's
# "auto", so a missing one fails at start-up instead of silently serving on the slower pair.
EVENT_LOOP = "uvloop"
HTTP_PARSER = "httptools"


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
        running = server.running_pid()
        print(f"Neo4j running (pid {running}): {server.uri}" if running else "Neo4j is not running.")
        if not running:
            raise SystemExit(3)


def cmd_backup(settings: Settings, arguments: argparse.Namespace) -> None:
    """Dump (backup) or load (restore) the local server's database: Neo4j's own tools, with the server
    stopped for the while and started again if it was running."""
    if settings.neo4j_uri or docker_engine_available():
        elsewhere = settings.neo4j_uri or "the Docker one"
        raise SystemExit(f"accountgraph: {arguments.command} works on the local Neo4j server; for {elsewhere}, "
                         "use its own tools (docs/scaling.md#backup-and-restore)")
    server = local_server(settings)
    was_running = server.stop()
    try:
        if arguments.command == "backup":
            print(f"Backed up the graph to {server.dump(arguments.to)}")
        else:
            server.load(arguments.source)
            print(f"Restored the graph from {arguments.source / 'neo4j.dump'}")
    finally:
        if was_running:
            server.start()
            print(f"Neo4j running again: {server.uri}")


def _banner(settings: Settings, neo4j: ProvidedNeo4j, dev_key: str | None = None) -> str:
    base = f"http://{settings.host}:{settings.port}"
    lines = [
        f"GraphiQL:      {base}/graphql  (the Townsend query is preloaded: put the key in the API key bar, press run)",
        f"Explorer:      {base}/explorer  (segments, members and why they are in: paste the API key)",
        f"Neo4j ({neo4j.kind}): {neo4j.connection.uri}  database {neo4j.connection.database!r}",
    ]
    if dev_key:
        lines += [
            f"API key:       {dev_key}  (the demo's, every scope; kept in {settings.dev_key_file}, mode 0600)",
            "               GraphiQL: paste it in the API key bar at the top of the page",
        ]
    if neo4j.browser_url:
        lines.append(f"Neo4j Browser: {neo4j.browser_url}  (user {neo4j.connection.user!r}, "
                     f"password from NEO4J_PASSWORD; default 'accountgraph'; the Townsend guide opens on connecting)")
    return "\n".join(lines)


def _serve(settings: Settings, neo4j: ProvidedNeo4j, dev_key: str | None = None, workers: int = 1,
           log_format: LogFormat = LogFormat.JSON) -> None:
    """Serve on one port with `workers` processes. Each worker is a whole service (its own driver, live
    loop and change-feed reader, and its own /metrics), as separate replicas would be: they share only Neo4j.
    Log lines go to stderr in `log_format` (LOG_FORMAT wins), uvicorn's own included; the service writes
    the access lines (service.http_metrics), with the request id, instead of uvicorn's."""
    print(_banner(settings, neo4j, dev_key), flush=True)
    config = logging_config(settings.log_format or log_format, settings.log_level)
    options: dict[str, object] = {"host": settings.host, "port": settings.port, "log_level": settings.log_level.lower(),
                                  "log_config": config, "access_log": False, "loop": EVENT_LOOP, "http": HTTP_PARSER}
    if workers == 1:
        uvicorn.run(app_of(settings, neo4j.connection), **options)  # type: ignore[arg-type]
        return
    # The workers are new processes: they find the Neo4j this one provided in the environment.
    connection = neo4j.connection
    os.environ.update(NEO4J_URI=connection.uri, NEO4J_USER=connection.user,
                      NEO4J_PASSWORD=connection.password.get_secret_value(), NEO4J_DATABASE=connection.database)
    uvicorn.run("service.cli.server:worker_app", factory=True, workers=workers, **options)  # type: ignore[arg-type]


def app_of(settings: Settings, connection: Neo4jConnection) -> Starlette:
    from service.app import create_app  # the web stack is not needed by the other commands

    return create_app(connection, settings.live_poll_seconds, settings.live_sweep_seconds, settings.limits(),
                      settings.driver_timeouts(), settings.group_window(), settings.warmup_seconds,
                      settings.warmup_check_seconds, settings.retention(), settings.delivery(),
                      settings.metrics_token)


def worker_app() -> Starlette:
    """The application of one worker of `serve --workers N` (uvicorn calls it in each new process)."""
    settings = Settings()
    return app_of(settings, provide_neo4j(settings).connection)  # NEO4J_URI is set: nothing is started


def cmd_serve(settings: Settings, arguments: argparse.Namespace) -> None:
    _serve(settings, provide_neo4j(settings), workers=arguments.workers)


async def _prepare_demo(graph: Graph, seed_dir: Path, dev_key_file: Path) -> str:
    """Migrate, seed, and make sure the demo's API key exists; returns the key."""
    await graph.migrate()
    await seed_and_report(graph, seed_dir)
    return await ensure_dev_key(graph, dev_key_file)


def cmd_run(settings: Settings, arguments: argparse.Namespace) -> None:
    """Start Neo4j, migrate, seed, make sure a dev key exists, serve; stop the Neo4j it started on Ctrl-C."""
    neo4j = provide_neo4j(settings)
    try:
        dev_key = asyncio.run(with_graph(
            neo4j.connection, lambda graph: _prepare_demo(graph, settings.seed_dir, settings.dev_key_file)))
        _serve(settings, neo4j, dev_key, arguments.workers, log_format=LogFormat.TEXT)
    finally:
        print("Stopping Neo4j ...", flush=True)
        neo4j.stop()


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"{text!r}: a number of processes from 1 to 64")
    return int(text)


def register(commands: Commands) -> None:
    backup = commands.add_parser("backup", help="dump the local Neo4j's database into a folder (neo4j.dump)")
    backup.add_argument("--to", type=Path, required=True, metavar="FOLDER")
    backup.set_defaults(handler=cmd_backup)
    restore = commands.add_parser("restore", help="replace the local Neo4j's database with FOLDER/neo4j.dump")
    restore.add_argument("--from", dest="source", type=Path, required=True, metavar="FOLDER")
    restore.set_defaults(handler=cmd_backup)
    db = commands.add_parser("db", help="the local Neo4j server (when no NEO4J_URI and no Docker)")
    db.add_argument("action", choices=["install", "start", "stop", "status"])
    db.set_defaults(handler=cmd_db)
    serve = commands.add_parser("serve", help="serve the GraphQL API")
    run = commands.add_parser("run", help="the demo: start Neo4j, migrate, seed, make a dev API key and serve")
    for command, handler in ((serve, cmd_serve), (run, cmd_run)):
        command.add_argument("--workers", type=_workers, default=1, metavar="N",
                             help="service processes on the one port, sharing nothing but Neo4j (default 1)")
        command.set_defaults(handler=handler)
