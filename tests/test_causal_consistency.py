"""Causal consistency: every session of a process shares one bookmark manager, so a read waits for
the writes made before it (on a cluster a read may go to a follower that has not applied them yet;
a single server cannot show the wait, but it shows whose bookmarks the reads carry)."""

from __future__ import annotations

import pytest

from service.database import Graph, Transaction
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
