"""A Neo4j of the fault tests' own, to stop, kill and restart: never the session's shared server.

Skipped where the test Neo4j is not the local server (NEO4J_TEST_URI set, or a Docker engine),
since only a local server can be killed and restarted here.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from service.config import get_settings
from service.database import DriverTimeouts, Graph
from service.neo4j_provider import docker_engine_available
from service.neo4j_server import LocalNeo4j, free_port, install
from tests.faults.helpers import PASSWORD, connection_of


@pytest.fixture(scope="session")
def fault_neo4j(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNeo4j]:
    """A throwaway local server on free loopback ports, created stopped; each test starts, stops or
    kills it as it needs. Stopped at the end of the session whatever the tests did."""
    if os.environ.get("NEO4J_TEST_URI") or docker_engine_available():
        pytest.skip("the fault tests stop and kill a local Neo4j; the test Neo4j is not local here")
    bolt_port = free_port()
    while (http_port := free_port()) == bolt_port:
        pass
    server = LocalNeo4j(lib=install(get_settings().neo4j_home), home=Path(tmp_path_factory.mktemp("fault-neo4j")),
                        bolt_port=bolt_port, http_port=http_port, password=PASSWORD, heap="1g", pagecache="256m")
    try:
        yield server
    finally:
        server.stop()


@pytest_asyncio.fixture
async def fault_graph(fault_neo4j: LocalNeo4j) -> AsyncIterator[Graph]:
    """The fault server, running, migrated and empty; a Graph to set up and check with."""
    await asyncio.to_thread(fault_neo4j.start)
    graph = Graph(connection_of(fault_neo4j), driver=DriverTimeouts(retry_seconds=10))
    try:
        await graph.migrate()
        async with graph.driver.session(database=graph.database) as session:  # CALL IN TRANSACTIONS: auto-commit
            await (await session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")).consume()
        yield graph
    finally:
        await graph.close()
