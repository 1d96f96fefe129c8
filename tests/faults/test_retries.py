"""Writes are managed transactions: a transient failure (here a real deadlock, detected by Neo4j)
is retried by the driver, and the retried work is committed exactly once."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from pathlib import Path

import pytest

from service.config import PROJECT_ROOT
from service.database import Graph, Transaction
from tests.helpers import run_cypher

pytestmark = pytest.mark.faults

LOCK = "MATCH (n:DeadlockTest {id: $id}) SET n.writes = n.writes + 1, n.by = n.by + [$by]"


@pytest.mark.asyncio
async def test_a_deadlocked_write_is_retried_and_committed_once(graph: Graph) -> None:
    """Two transactions lock two nodes in opposite orders, each waiting until the other holds its
    first lock: Neo4j must stop one (DeadlockDetected, a transient error). Graph.write_work retries it."""
    await run_cypher(graph, "UNWIND [1, 2] AS id CREATE (:DeadlockTest {id: id, writes: 0, by: []})")
    attempts: Counter[str] = Counter()
    holding = {"a": asyncio.Event(), "b": asyncio.Event()}

    async def work(tx: Transaction, me: str, other: str, first: int, second: int) -> None:
        attempts[me] += 1
        await tx.run_adhoc(LOCK, id=first, by=me)
        if attempts[me] == 1:  # the first attempt waits for the other to hold its lock too
            holding[me].set()
            await asyncio.wait_for(holding[other].wait(), timeout=30)
        await tx.run_adhoc(LOCK, id=second, by=me)

    await asyncio.wait_for(asyncio.gather(graph.write_work(work, "a", "b", 1, 2),
                                          graph.write_work(work, "b", "a", 2, 1)), timeout=60)

    assert sorted(attempts.values()) == [1, 2], f"one transaction was stopped and retried: {attempts}"
    nodes = await run_cypher(graph,
                             "MATCH (n:DeadlockTest) RETURN n.id AS id, n.writes AS writes, n.by AS by ORDER BY id")
    assert [node["writes"] for node in nodes] == [2, 2], "each committed once; the stopped attempt left nothing"
    assert all(sorted(node["by"]) == ["a", "b"] for node in nodes), nodes


def test_every_transaction_of_the_service_goes_through_graph() -> None:
    """Only service/database.py opens sessions or transactions, so every write is a managed
    transaction of Graph (write_work, or execute_query, also managed); no explicit one commits."""
    opening = re.compile(r"\.driver\b|\.session\(|begin_transaction|execute_query|execute_write|execute_read")
    found = []
    for path in sorted((PROJECT_ROOT / "service").rglob("*.py")):
        if path.name == "database.py" and path.parent.name == "service":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if opening.search(line):
                found.append(f"{Path(path).relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert found == []
    # The one explicit transaction is the warm-up's rehearsal, which never commits: it is rolled back.
    database = (PROJECT_ROOT / "service" / "database.py").read_text()
    start = database.index("    async def rehearse(")
    rehearse = database[start:database.index("\n    async def ", start + 1)]
    assert database.count("begin_transaction") == rehearse.count("begin_transaction") == 1
    assert ".commit(" not in database and "await tx.close()  # rolls back" in rehearse
