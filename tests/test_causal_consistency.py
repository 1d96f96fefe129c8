"""Causal consistency: every session of a process shares one bookmark manager, so a read waits for
the writes made before it (on a cluster a read may go to a follower that has not applied them yet;
a single server cannot show the wait, but it shows whose bookmarks the reads carry)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from neo4j.exceptions import Neo4jError

from service.database import Graph, Neo4jConnection, Transaction
from service.queries import Mode


async def _create_probe(tx: Transaction) -> None:
    await tx.run_adhoc("CREATE (:CausalProbe)")


@pytest.mark.asyncio
async def test_a_managed_write_leaves_its_bookmark_with_the_reads(graph: Graph) -> None:
    manager = graph.driver.execute_query_bookmark_manager  # what the reads (auto-commit and execute_query) carry
    before = set(await manager.get_bookmarks())
    await graph.write_work(_create_probe)
    after = set(await manager.get_bookmarks())
    assert after and after != before, "the write's bookmark is the one the next read waits for"
    assert await graph.run_adhoc("MATCH (n:CausalProbe) DETACH DELETE n RETURN count(*) AS gone", Mode.WRITE) \
        == [{"gone": 1}]
    assert set(await manager.get_bookmarks()) != after  # execute_query's writes too


@pytest.mark.asyncio
async def test_a_routing_uri_works_on_a_single_server_and_routes_reads_as_reads(
        graph: Graph, neo4j_connection: Neo4jConnection) -> None:
    """neo4j:// (what a cluster or Aura needs) against the single Community server: the driver fetches a
    routing table naming the server as router, reader and writer; a write is read back at once; and a
    read-routed transaction is a read one: the server refuses a write in it."""
    routed = Graph(replace(neo4j_connection, uri=neo4j_connection.uri.replace("bolt://", "neo4j://")))
    try:
        [table] = await routed.run_adhoc("CALL dbms.routing.getRoutingTable({}, $db) YIELD servers RETURN servers",
                                         Mode.READ, db=routed.database)
        roles = {server["role"]: server["addresses"] for server in table["servers"]}  # type: ignore[union-attr]
        assert set(roles) == {"ROUTE", "READ", "WRITE"} and all(len(a) == 1 for a in roles.values()), roles
        await routed.write_work(_create_probe)
        assert await routed.run_adhoc("MATCH (n:CausalProbe) RETURN count(n) AS n", Mode.READ) == [{"n": 1}]
        with pytest.raises(Neo4jError, match="read"):
            await routed.run_adhoc("CREATE (:CausalProbe)", Mode.READ)
    finally:
        await routed.close()
