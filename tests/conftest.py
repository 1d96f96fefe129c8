"""Fixtures: a real Neo4j for the whole run, a known graph per test, a real HTTP server, and
API keys to call it with. Only fixtures: what tests import is in tests/helpers.py.

The test Neo4j is never the demo's: NEO4J_TEST_URI if set, else a testcontainers Neo4j where a
Docker engine answers, else a throwaway local server on free loopback ports.

Nothing is open: HTTP tests send a key made by the `api_keys` fixture (real keys, stored hashed
like any other, kept across the per-test wipes of the graph); GraphQL run in-process
(`execute_graphql`) runs as an admin key unless told which key to act as.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from service.auth import store
from service.auth.keys import Scope
from service.config import get_settings
from service.database import Graph, Neo4jConnection
from service.neo4j_provider import docker_engine_available, service_url
from service.neo4j_server import LocalNeo4j, free_port, install
from service.seed import seed
from tests.helpers import LOCAL_NEO4J, SEED_DIR, SESSION_KEY_IDS, ApiKeys, ServerThread, wipe

# The tests' webhook receiver listens on loopback (tests/receiver.py): allowed for the whole run, in
# this process and the service processes it starts (test_webhook_addresses turns it off again).
os.environ["WEBHOOK_PRIVATE_ADDRESSES"] = "true"
get_settings.cache_clear()

TEST_PASSWORD = "test-password"
NEO4J_IMAGE = "neo4j:5.26-community"


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
            service_url=service_url(get_settings()),  # as `make run` configures it (test_neo4j_browser)
        )
        LOCAL_NEO4J.append(server)
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


@pytest_asyncio.fixture
async def graph(session_graph: Graph) -> Graph:
    """An empty graph (schema applied), but for the session's API keys."""
    await wipe(session_graph)
    return session_graph


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


@pytest.fixture(scope="session")
def live_server(neo4j_connection: Neo4jConnection) -> Iterator[str]:
    """The service for the HTTP tests. Its live loop acts only when a request wakes it, so it
    cannot change the graph under a test that does not use it."""
    with ServerThread(neo4j_connection, poll_seconds=3600, sweep_seconds=3600) as server:
        yield server.url


@pytest.fixture
def exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """EXPORTS_DIR in a temporary folder, for activations and erasures run in-process."""
    folder = tmp_path / "exports"
    monkeypatch.setenv("EXPORTS_DIR", str(folder))
    get_settings.cache_clear()
    yield folder
    get_settings.cache_clear()


@pytest.fixture
def client(live_server: str, api_keys: ApiKeys) -> Iterator[httpx.Client]:
    """An HTTP client of the live server, sending an admin key."""
    with httpx.Client(base_url=live_server, timeout=60, headers=api_keys.admin_header) as http:
        yield http
