"""Fixtures: a real Neo4j for the whole run, a known graph per test, a real HTTP server, and
API keys to call it with.

The test Neo4j is never the demo's: NEO4J_TEST_URI if set, else a testcontainers Neo4j where a
Docker engine answers, else a throwaway local server on free loopback ports.

Nothing is open: HTTP tests send a key made by the `api_keys` fixture (real keys, stored hashed
like any other, kept across the per-test wipes of the graph); GraphQL run in-process
(`execute_graphql`) runs as an admin key unless told which key to act as.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from pydantic import SecretStr
from strawberry.types import ExecutionResult

from service.app import create_app
from service.auth import store
from service.auth.keys import ALL_SCOPES, ApiKey, Scope
from service.config import get_settings
from service.database import Graph, Neo4jConnection
from service.neo4j_provider import docker_engine_available
from service.neo4j_server import LocalNeo4j, free_port, install
from service.seed import seed

TEST_PASSWORD = "test-password"
NEO4J_IMAGE = "neo4j:5.26-community"
SEED_DIR = get_settings().seed_dir


@pytest.fixture(scope="session")
def neo4j_connection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Neo4jConnection]:
    if uri := os.environ.get("NEO4J_TEST_URI"):
        yield Neo4jConnection(uri, os.environ.get("NEO4J_TEST_USER", "neo4j"),
                              SecretStr(os.environ.get("NEO4J_TEST_PASSWORD", "")), "neo4j")
    elif docker_engine_available():
        from testcontainers.community.neo4j import Neo4jContainer

        with Neo4jContainer(NEO4J_IMAGE, password=TEST_PASSWORD) as container:
            yield Neo4jConnection(container.get_connection_url(), "neo4j", SecretStr(TEST_PASSWORD), "neo4j")
    else:
        server = LocalNeo4j(
            lib=install(get_settings().neo4j_home),
            home=tmp_path_factory.mktemp("neo4j"),
            bolt_port=free_port(), http_port=free_port(), password=TEST_PASSWORD,
            heap="1g", pagecache="256m",
        )
        server.start()
        try:
            yield Neo4jConnection(server.uri, "neo4j", SecretStr(TEST_PASSWORD), "neo4j")
        finally:
            server.stop()


@pytest_asyncio.fixture(scope="session")
async def session_graph(neo4j_connection: Neo4jConnection) -> AsyncIterator[Graph]:
    graph = Graph(neo4j_connection)
    await graph.migrate()
    yield graph
    await graph.close()


async def run_cypher(graph: Graph, statement: str, **parameters: object) -> list[dict[str, object]]:
    """Ad-hoc Cypher for test set-up and assertions only; the product's queries live in cypher/."""
    records, _, _ = await graph.driver.execute_query(statement, parameters, database_=graph.database)
    return [record.data() for record in records]


def run_cli(connection: Neo4jConnection, *arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """The real `accountgraph` command, pointed at the test Neo4j."""
    env = {**os.environ, "NEO4J_URI": connection.uri, "NEO4J_USER": connection.user,
           "NEO4J_PASSWORD": connection.password.get_secret_value(), **environment}
    return subprocess.run([sys.executable, "-m", "service.cli", *arguments], env=env,
                          capture_output=True, text=True, timeout=120)


# The ids of the session's API keys: the per-test wipe keeps them.
SESSION_KEY_IDS: set[str] = set()


async def wipe(graph: Graph) -> None:
    """Delete every node but the session's API keys."""
    await run_cypher(graph, "MATCH (n) WHERE NOT (n:ApiKey AND n.id IN $kept) DETACH DELETE n",
                     kept=sorted(SESSION_KEY_IDS))


@pytest_asyncio.fixture
async def graph(session_graph: Graph) -> Graph:
    """An empty graph (schema applied), but for the session's API keys."""
    await wipe(session_graph)
    return session_graph


class ApiKeys:
    """Keys of the test session, as clients send them."""

    def __init__(self, admin: str, read: str, write: str) -> None:
        self.admin, self.read, self.write = admin, read, write

    @staticmethod
    def header(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    @property
    def admin_header(self) -> dict[str, str]:
        return self.header(self.admin)


@pytest_asyncio.fixture(scope="session")
async def api_keys(session_graph: Graph) -> ApiKeys:
    """An admin key, a read-only key and a write-only key, created once per session."""
    made = {}
    for name, scopes in (("admin", [Scope.ADMIN]), ("read", [Scope.READ]), ("write", [Scope.WRITE])):
        record, text = await store.create(session_graph, f"tests: {name}", scopes)
        SESSION_KEY_IDS.add(record.id)
        made[name] = text
    return ApiKeys(**made)


@pytest_asyncio.fixture
async def seeded_graph(graph: Graph) -> Graph:
    """The Townsend seed, as `accountgraph seed` loads it."""
    await seed(graph, SEED_DIR)
    return graph


class ServerThread:
    """The real application served by uvicorn in a thread (`keys`: what its tests call it with)."""

    keys: ApiKeys | None = None

    def __init__(self, connection: Neo4jConnection, log_level: str = "warning", wait_ready: bool = True,
                 **options: Any) -> None:
        self.wait_ready = wait_ready  # for /readyz: the schema is applied in the background
        self.port = free_port()
        self.app = create_app(connection, **options)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level=log_level))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        while self.wait_ready and httpx.get(f"{self.url}/readyz", timeout=10).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not become ready")
            time.sleep(0.05)
        return self

    def __exit__(self, *exception: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(neo4j_connection: Neo4jConnection) -> Iterator[str]:
    """The service for the HTTP tests. Its live loop acts only when a request wakes it, so it
    cannot change the graph under a test that does not use it."""
    with ServerThread(neo4j_connection, poll_seconds=3600, sweep_seconds=3600) as server:
        yield server.url


@pytest.fixture
def client(live_server: str, api_keys: ApiKeys) -> Iterator[httpx.Client]:
    """An HTTP client of the live server, sending an admin key."""
    with httpx.Client(base_url=live_server, timeout=60, headers=api_keys.admin_header) as http:
        yield http


def messages(response: httpx.Response) -> list[str]:
    """The GraphQL error messages of an HTTP answer."""
    return [error["message"] for error in response.json().get("errors") or []]


# In-process GraphQL acts as this key unless told otherwise (it is not stored: no HTTP checks it).
IN_PROCESS_ADMIN = ApiKey(id="in-process", name="tests, in-process", scopes=ALL_SCOPES)


async def execute_graphql(graph: Graph, query: str, key_: ApiKey | None = IN_PROCESS_ADMIN,
                          **variables: Any) -> ExecutionResult:
    """Run a GraphQL operation in-process against the real graph (no HTTP), as `key_`."""
    from service.api.context import Context
    from service.api.schema import schema

    context = Context(request=None, response=None, graph=graph, key=key_)  # type: ignore[arg-type]
    return await schema.execute(query, variable_values=variables, context_value=context)


async def graphql_data(graph: Graph, query: str, **variables: Any) -> dict[str, Any]:
    """The data of a GraphQL operation that must succeed."""
    result = await execute_graphql(graph, query, **variables)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
