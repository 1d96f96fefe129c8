"""Chooses the Neo4j to use, in one order everywhere:

1. NEO4J_URI is set: that server, as it is.
2. A Docker engine answers: the `neo4j` service of docker-compose.yml.
3. Otherwise: the local Community server assembled from Maven Central (service.neo4j_server).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from service.config import PROJECT_ROOT, Settings
from service.database import Neo4jConnection
from service.neo4j_server import LocalNeo4j, install


@dataclass(frozen=True)
class ProvidedNeo4j:
    kind: str  # "external", "docker" or "local"
    connection: Neo4jConnection
    browser_url: str | None
    stop: Callable[[], object]


def docker_engine_available() -> bool:
    docker = shutil.which("docker")
    if not docker:
        return False
    try:
        return subprocess.run([docker, "info"], capture_output=True, timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def local_server(settings: Settings) -> LocalNeo4j:
    lib = install(settings.neo4j_home)
    return LocalNeo4j(
        lib=lib,
        home=settings.neo4j_home / "demo",
        bolt_port=settings.neo4j_bolt_port,
        http_port=settings.neo4j_http_port,
        password=settings.neo4j_password.get_secret_value(),
        heap=settings.neo4j_heap,
        pagecache=settings.neo4j_pagecache,
        service_url=service_url(settings),
    )


def service_url(settings: Settings) -> str:
    """Where a browser on this machine reaches the service (a wildcard listen address is loopback)."""
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


def _connection(settings: Settings, uri: str) -> Neo4jConnection:
    return Neo4jConnection(uri, settings.neo4j_user, settings.neo4j_password, settings.neo4j_database)


def _compose(*arguments: str) -> None:
    subprocess.run(["docker", "compose", *arguments], cwd=PROJECT_ROOT, check=True)


def provide_neo4j(settings: Settings) -> ProvidedNeo4j:
    """Make sure a Neo4j is running and say how to reach it (and how to stop what was started)."""
    if settings.neo4j_uri:
        return ProvidedNeo4j("external", _connection(settings, settings.neo4j_uri), None, lambda: None)
    if docker_engine_available():
        _compose("up", "--detach", "--wait", "neo4j")
        return ProvidedNeo4j(
            "docker", _connection(settings, "bolt://127.0.0.1:7687"),
            "http://127.0.0.1:7474/browser/", lambda: _compose("stop", "neo4j"),
        )
    server = local_server(settings)
    server.start()
    return ProvidedNeo4j("local", _connection(settings, server.uri), server.browser_url, server.stop)
