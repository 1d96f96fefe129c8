"""The local Neo4j server's lifecycle: start (and find again), serve Bolt and the Browser, stop.

A separate throwaway instance on free loopback ports, never the demo's nor the session's test
server. Skipped where the test Neo4j is not the local one (NEO4J_TEST_URI set, or a Docker engine).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import AuthError
from pydantic import SecretStr

from service.config import get_settings
from service.database import Graph, Neo4jConnection
from service.neo4j_provider import docker_engine_available
from service.neo4j_server import LocalNeo4j, Neo4jServerError, free_port, install
from service.seed import seed
from tests.helpers import SEED_DIR, run_cli

PASSWORD = "lifecycle-pass"


def process_state(pid: int) -> str | None:
    """The /proc state letter of pid ("Z" for a zombie), or None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return None


def two_free_ports() -> tuple[int, int]:
    bolt_port = free_port()
    while (http_port := free_port()) == bolt_port:
        pass
    return bolt_port, http_port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalNeo4j]:
    """A LocalNeo4j, not yet started; stopped afterwards whatever the test did."""
    if os.environ.get("NEO4J_TEST_URI") or docker_engine_available():
        pytest.skip("the test Neo4j is not the local server here")
    bolt_port, http_port = two_free_ports()
    instance = LocalNeo4j(
        lib=install(get_settings().neo4j_home), home=tmp_path / "neo4j",
        bolt_port=bolt_port, http_port=http_port, password=PASSWORD, heap="512m", pagecache="128m",
    )
    try:
        yield instance
    finally:
        instance.stop()


def test_local_server_starts_serves_and_stops(server: LocalNeo4j) -> None:
    pid = server.start()
    assert server.start() == pid, "a second start() finds the running server"
    assert server.pid_file.read_text().strip() == str(pid)
    assert server.running_pid() == pid

    with GraphDatabase.driver(server.uri, auth=("neo4j", PASSWORD)) as driver:
        records, _, _ = driver.execute_query("RETURN 1 AS one", database_="neo4j")
    assert [record["one"] for record in records] == [1]

    with GraphDatabase.driver(server.uri, auth=("neo4j", "wrong-password")) as driver:
        with pytest.raises(AuthError):
            driver.execute_query("RETURN 1", database_="neo4j")

    browser = httpx.get(server.browser_url, timeout=30)
    assert browser.status_code == 200
    assert "text/html" in browser.headers["content-type"]
    assert "Neo4j Browser" in browser.text

    discovery = httpx.get(f"http://127.0.0.1:{server.http_port}/", headers={"Accept": "application/json"}, timeout=30)
    assert discovery.status_code == 200
    assert discovery.json()["neo4j_version"].startswith("5.26")
    assert discovery.json()["neo4j_edition"] == "community"

    assert server.stop() is True
    assert process_state(pid) in (None, "Z"), "the server process has exited"
    assert not server.pid_file.exists()
    assert server.running_pid() is None
    assert server.stop() is False, "nothing left to stop"


def _graph_of(server: LocalNeo4j) -> list[tuple[str, int]]:
    """Every label and relationship type with its count, and the constraints: what a restore must give back."""
    with GraphDatabase.driver(server.uri, auth=("neo4j", PASSWORD)) as driver:
        labels, _, _ = driver.execute_query("MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n "
                                            "ORDER BY label", database_="neo4j")
        types, _, _ = driver.execute_query("MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n ORDER BY type",
                                           database_="neo4j")
        constraints, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN name, 0 AS n ORDER BY name",
                                                 database_="neo4j")
    return [(r[0], r[1]) for r in [*labels, *types, *constraints]]


def test_a_backup_restored_into_an_empty_server_gives_the_same_graph(server: LocalNeo4j, tmp_path: Path) -> None:
    server.start()

    async def seeded() -> None:
        graph = Graph(Neo4jConnection(server.uri, "neo4j", SecretStr(PASSWORD), "neo4j"))
        try:
            await graph.migrate()
            await seed(graph, SEED_DIR)
        finally:
            await graph.close()

    asyncio.run(seeded())
    original = _graph_of(server)
    assert any(label == "Person" and n > 0 for label, n in original), original
    with pytest.raises(Neo4jServerError, match="running: stop it first"):
        server.dump(tmp_path / "backup")
    server.stop()
    dump = server.dump(tmp_path / "backup")
    assert dump.stat().st_size > 0

    bolt_port, http_port = two_free_ports()
    empty = LocalNeo4j(lib=server.lib, home=tmp_path / "empty", bolt_port=bolt_port, http_port=http_port,
                       password=PASSWORD, heap="512m", pagecache="128m")
    try:
        empty.start()
        assert _graph_of(empty) == []
        empty.stop()
        empty.load(tmp_path / "backup")
        empty.start()
        assert _graph_of(empty) == original
    finally:
        empty.stop()


def test_backup_of_a_server_run_elsewhere_points_to_its_own_tools(neo4j_connection: Neo4jConnection,
                                                                   tmp_path: Path) -> None:
    refused = run_cli(neo4j_connection, "backup", "--to", str(tmp_path))
    assert refused.returncode != 0 and "works on the local Neo4j server" in refused.stderr, refused.stderr
    assert "docs/scaling.md#backup-and-restore" in refused.stderr and not list(tmp_path.iterdir())
