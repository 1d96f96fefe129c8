"""Group commit (service/ingest/group_commit.py): concurrent single-visit requests share a transaction,
over real HTTP against a real Neo4j, without weakening what each request is told."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.database import Graph, Neo4jConnection
from service.ingest.pipeline import ingest_path
from service.limits import ApiLimits, GroupWindow
from tests.helpers import ApiKeys, ServerThread, run_cypher

pytestmark = pytest.mark.asyncio

PAGE = "https://www.bodea.com/products/new-product"
# A window long enough that requests sent together on a busy 2-core machine land in one group.
WIDE = GroupWindow(seconds=0.3, max_rows=100)
RECORD_VISIT = """mutation ($id: String!, $person: String!, $url: String!, $at: DateTime!) {
  recordWebVisits(source: "Marketo 1", visits: [{id: $id, personId: $person, url: $url, visitedAt: $at}]) {
    records } }"""
VISITS = """UNWIND $ids AS id
OPTIONAL MATCH (p:Person)-[:VISITED]->(v:WebVisit {source: $source, sourceKey: id})
RETURN id, count(v) AS n, collect(p.email) AS people, collect(v.firstSeenAt) AS seen"""


def a_second_ago() -> str:
    return (datetime.now(UTC) - timedelta(seconds=1)).isoformat()


def visit(id_: str, person: str, **fields: str) -> dict[str, Any]:
    return {"type": "webVisit", "Id": id_, "PersonId": person, "Url": PAGE, "VisitedAt": a_second_ago(), **fields}


@contextmanager
def serving(connection: Neo4jConnection, keys: ApiKeys, window: GroupWindow, **options: Any) -> Iterator[ServerThread]:
    with ServerThread(connection, poll_seconds=3600, sweep_seconds=3600, group_window=window, **options) as running:
        running.keys = keys
        yield running


@pytest.fixture
def server(neo4j_connection: Neo4jConnection, api_keys: ApiKeys) -> Iterator[ServerThread]:
    with serving(neo4j_connection, api_keys, WIDE) as running:
        yield running


async def visits(graph: Graph, ids: list[str], source: str = "Marketo 1") -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in await run_cypher(graph, VISITS, ids=ids, source=source)}


async def post_each(server: ServerThread, bodies: list[dict[str, Any]], graph: Graph,
                    path: str = "/events") -> list[tuple[httpx.Response, int]]:
    """Send the bodies at once, one request each; with each answer, how many of its visit the graph
    holds the moment the answer arrived (read through another connection than the service's)."""
    assert server.keys is not None
    async with httpx.AsyncClient(base_url=server.url, timeout=60, headers={"X-API-Key": server.keys.write},
                                 limits=httpx.Limits(max_connections=len(bodies))) as client:
        async def send(body: dict[str, Any]) -> tuple[httpx.Response, int]:
            answer = await client.post(path, json=body)
            id_ = body["events"][0]["Id"] if path == "/events" else body["variables"]["id"]
            return answer, (await visits(graph, [id_]))[id_]["n"]

        return list(await asyncio.gather(*(send(body) for body in bodies)))


async def test_twenty_concurrent_visits_share_transactions_and_each_answer_follows_its_commit(
        seeded_graph: Graph, server: ServerThread) -> None:
    ids = [f"group-{n:02d}" for n in range(20)]
    bodies = [{"source": "Marketo 1", "events": [visit(id_, "1001" if n % 2 else "1002")]} for n, id_ in enumerate(ids)]
    answers = await post_each(server, bodies, seeded_graph)
    assert [(answer.status_code, answer.json()["records"]) for answer, _ in answers] == [(200, 1)] * 20
    assert [held for _, held in answers] == [1] * 20  # committed before its answer was sent
    found = await visits(seeded_graph, ids)
    assert {id_: (row["n"], row["people"]) for id_, row in found.items()} == {
        id_: (1, ["p1@townsend.com" if n % 2 else "p2@townsend.com"]) for n, id_ in enumerate(ids)}
    writes = server.app.state.writes
    assert writes.requests == 20
    assert 1 <= writes.transactions < 20
    # The graph's own account: a group stamps its visits with the moment it was written, one per transaction.
    assert len({row["seen"][0] for row in found.values()}) == writes.transactions


async def test_an_invalid_visit_among_concurrent_ones_fails_only_its_own_request(
        seeded_graph: Graph, server: ServerThread) -> None:
    good = [f"fine-{n:02d}" for n in range(10)]
    bodies = [{"source": "Marketo 1", "events": [visit(id_, "1001")]} for id_ in good]
    bodies.insert(3, {"source": "Marketo 1", "events": [visit("no-such-person", "NOPE")]})  # found out in the group
    bodies.insert(7, {"source": "Marketo 1", "events": [visit("not-a-time", "1002", VisitedAt="soon")]})
    answers = await post_each(server, bodies, seeded_graph)
    statuses = [answer.status_code for answer, _ in answers]
    assert statuses == [200] * 3 + [400] + [200] * 3 + [400] + [200] * 4
    assert answers[3][0].json()["errors"] == [{
        "file": "events", "line": 0, "id": "no-such-person", "column": "PersonId",
        "reason": "no people record with Id 'NOPE' in this import or the graph"}]
    assert answers[7][0].json()["errors"] == [{"file": "events", "line": 0, "id": "not-a-time", "column": "VisitedAt",
                                               "reason": "'soon' is not an ISO 8601 date-time"}]
    found = await visits(seeded_graph, [*good, "no-such-person", "not-a-time"])
    assert {id_: row["n"] for id_, row in found.items()} == {**dict.fromkeys(good, 1), "no-such-person": 0,
                                                             "not-a-time": 0}
    writes = server.app.state.writes
    assert writes.requests == 10 and writes.transactions < 10


async def test_the_mutation_is_grouped_too_and_its_error_names_the_record_and_field(
        seeded_graph: Graph, server: ServerThread) -> None:
    people = ["1001", "1002", "1001", "GONE", "1002", "1001"]
    bodies = [{"query": RECORD_VISIT, "variables": {"id": f"mutation-{n}", "person": person, "url": PAGE,
                                                    "at": a_second_ago()}} for n, person in enumerate(people)]
    answers = await post_each(server, bodies, seeded_graph, path="/graphql")
    results = [answer.json() for answer, _ in answers]
    assert [r.get("data") and r["data"]["recordWebVisits"] for r in results] == \
        [{"records": 1}] * 3 + [None] + [{"records": 1}] * 2
    [error] = results[3]["errors"]
    assert error["extensions"]["code"] == "IMPORT_REJECTED"
    assert error["extensions"]["errors"] == [{"record": 0, "id": "mutation-3", "field": "personId",
                                              "reason": "no people record with Id 'GONE' in this import or the graph"}]
    assert [held for _, held in answers] == [1, 1, 1, 0, 1, 1]
    writes = server.app.state.writes
    assert writes.requests == 5 and writes.transactions < 5


async def test_a_database_failure_fails_every_request_of_the_group(neo4j_connection: Neo4jConnection,
                                                                   api_keys: ApiKeys, seeded_graph: Graph) -> None:
    """Another transaction holds p1's lock; the group that writes a visit of p1 waits for it until Neo4j
    stops the group's transaction (the timeout): every request of the group, p2's too, is answered 503.
    (The window closes when the eight have arrived: they are one group.)"""
    ids = [f"stuck-{n}" for n in range(8)]
    bodies = [{"source": "Marketo 1", "events": [visit(id_, "1002" if n else "1001")]} for n, id_ in enumerate(ids)]
    with serving(neo4j_connection, api_keys, GroupWindow(seconds=60, max_rows=8),
                 limits=ApiLimits(query_timeout_seconds=2)) as server:
        async with seeded_graph.driver.session(database=seeded_graph.database) as session:
            holder = await session.begin_transaction()
            await (await holder.run("MATCH (p:Person {email: 'p1@townsend.com'}) SET p.held = true")).consume()
            try:
                answers = await post_each(server, bodies, seeded_graph)
            finally:
                await holder.rollback()
        assert [(answer.status_code, held) for answer, held in answers] == [(503, 0)] * 8
        assert {answer.json()["error"] for answer, _ in answers} == {"the query took longer than 2 s and was stopped"}
        assert server.app.state.writes.transactions == 0
    assert {id_: row["n"] for id_, row in (await visits(seeded_graph, ids)).items()} == dict.fromkeys(ids, 0)


async def test_a_group_refused_by_neo4j_is_written_again_one_request_per_transaction(
        graph: Graph, neo4j_connection: Neo4jConnection, api_keys: ApiKeys, tmp_path: Path) -> None:
    """A uniqueness constraint (set up by this test) makes two requests of one group conflict: Neo4j refuses
    the group's transaction; each request is then written alone, and only the one that conflicts fails.
    (The window closes when the three have arrived: they are one group.)"""
    (tmp_path / "people.csv").write_text("Id,Email\nw1,w1@example.com\nw2,w2@example.com\n")
    await ingest_path(graph, tmp_path / "people.csv", "Web")
    await run_cypher(graph, "CREATE CONSTRAINT test_one_visit_per_url IF NOT EXISTS "
                            "FOR (v:WebVisit) REQUIRE v.url IS UNIQUE")
    try:
        bodies = [{"source": "Web", "events": [visit(id_, person, Url=url)]} for id_, person, url in (
            ("a", "w1", "https://x.example/same"), ("b", "w2", "https://x.example/same"),
            ("c", "w2", "https://x.example/other"))]
        with serving(neo4j_connection, api_keys, GroupWindow(seconds=60, max_rows=3)) as server:
            headers = {"X-API-Key": api_keys.write}
            async with httpx.AsyncClient(base_url=server.url, timeout=60, headers=headers) as client:
                answers = await asyncio.gather(*(client.post("/events", json=body) for body in bodies))
            writes = server.app.state.writes
    finally:
        await run_cypher(graph, "DROP CONSTRAINT test_one_visit_per_url IF EXISTS")
    found = await visits(graph, ["a", "b", "c"], source="Web")
    stored = {id_ for id_, row in found.items() if row["n"] == 1}
    assert {body["events"][0]["Id"] for body, answer in zip(bodies, answers, strict=True)
            if answer.status_code == 200} == stored
    assert "c" in stored and len(stored & {"a", "b"}) == 1  # one of the two same-URL visits, and c
    assert sorted(answer.status_code for answer in answers) == [200, 200, 500]
    assert (writes.requests, writes.transactions) == (2, 2)  # the group failed; then one transaction each
