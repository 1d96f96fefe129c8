"""Time is bounded on both sides: a web visit later than now (beyond the clock skew allowed) is refused
by every way in, with the graph unchanged; a visit counts in a window only once it has happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.config import get_settings
from service.database import Graph
from service.ingest.errors import ImportRejected
from service.ingest.pipeline import ingest_path
from service.realtime.evaluator import Evaluator
from tests.helpers import execute_graphql, graphql_data, run_cypher
from tests.snapshot import snapshot

PAGE = "https://www.bodea.com/products/new-product"
SKEW = timedelta(seconds=get_settings().clock_skew_seconds)
RECENT_AUDIENCE = """query ($page: String!) { audience(minCompanyWonAmount: 1000000, visitedPage: $page,
    withinDays: 30) { count people { email } } }"""


def stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def future() -> datetime:
    """Beyond the clock skew allowed: refused."""
    return datetime.now(UTC) + SKEW + timedelta(minutes=10)


async def audience_emails(graph: Graph) -> list[str]:
    data = await graphql_data(graph, RECENT_AUDIENCE, page=PAGE)
    return [person["email"] for person in data["audience"]["people"]]


@pytest.mark.asyncio
async def test_an_import_with_a_visit_in_the_future_is_refused_whole(seeded_graph: Graph, tmp_path: Path) -> None:
    before = await snapshot(seeded_graph)
    export = tmp_path / "marketo-1"
    export.mkdir()
    (export / "web-visits.csv").write_text(
        "Id,PersonId,Url,VisitedAt\n"
        f"ok,1001,{PAGE},{stamp(datetime.now(UTC) - timedelta(days=1))}\n"
        f"ahead,1001,{PAGE},3000-01-01T00:00:00Z\n")
    with pytest.raises(ImportRejected) as rejected:
        await ingest_path(seeded_graph, export, "Marketo 1")
    [error] = rejected.value.errors
    assert (error.line, error.id, error.column) == (3, "ahead", "VisitedAt")
    assert "3000-01-01T00:00:00+00:00 is in the future" in error.reason and "CLOCK_SKEW_SECONDS" in error.reason
    assert await snapshot(seeded_graph) == before
    assert await audience_emails(seeded_graph) == ["p2@townsend.com"]


@pytest.mark.asyncio
async def test_the_mutation_refuses_a_visit_in_the_future(seeded_graph: Graph) -> None:
    before = await snapshot(seeded_graph)
    result = await execute_graphql(seeded_graph, """mutation ($at: DateTime!, $page: String!) {
        recordWebVisits(source: "Marketo 1", visits: [{id: "ahead", personId: "1001", url: $page, visitedAt: $at}])
        { records } }""", at=stamp(future()), page=PAGE)
    assert result.errors, result
    [error] = result.errors
    assert error.extensions is not None and error.extensions["code"] == "IMPORT_REJECTED"
    [detail] = error.extensions["errors"]
    assert (detail["record"], detail["id"], detail["field"]) == (0, "ahead", "visitedAt")
    assert "is in the future" in detail["reason"]
    assert await snapshot(seeded_graph) == before


def test_events_refuse_a_visit_in_the_future(client: httpx.Client, graph: Graph) -> None:
    body: dict[str, Any] = {"source": "Marketo 1", "events": [
        {"type": "person", "Id": "1001", "Email": "p1@townsend.com"},
        {"type": "webVisit", "Id": "ahead", "PersonId": "1001", "Url": PAGE, "VisitedAt": stamp(future())}]}
    refused = client.post("/events", json=body)
    assert refused.status_code == 400, refused.text
    assert "is in the future" in refused.text
    assert [(e["line"], e["id"], e["column"]) for e in refused.json()["errors"]] == [(1, "ahead", "VisitedAt")]
    body["events"][1]["VisitedAt"] = stamp(datetime.now(UTC) - timedelta(hours=1))
    accepted = client.post("/events", json=body)
    assert accepted.status_code == 200 and accepted.json()["records"] == 2, accepted.text


@pytest.mark.asyncio
async def test_a_visit_within_the_clock_skew_is_kept_but_counts_only_once_due(seeded_graph: Graph) -> None:
    ahead = datetime.now(UTC) + SKEW / 2
    await graphql_data(seeded_graph, """mutation ($at: DateTime!, $page: String!) {
        recordWebVisits(source: "Marketo 1", visits: [{id: "soon", personId: "1001", url: $page, visitedAt: $at}])
        { records } }""", at=stamp(ahead), page=PAGE)
    assert await run_cypher(seeded_graph, "MATCH (v:WebVisit {sourceKey: 'soon'}) RETURN count(v) AS n") == [{"n": 1}]
    assert await audience_emails(seeded_graph) == ["p2@townsend.com"]  # p1's visit has not happened yet
    # Once its time has come (moved back here rather than waited for), it counts.
    await run_cypher(seeded_graph,
                     "MATCH (v:WebVisit {sourceKey: 'soon'}) SET v.visitedAt = datetime() - duration('PT1M')")
    assert await audience_emails(seeded_graph) == ["p1@townsend.com", "p2@townsend.com"]


@pytest.mark.asyncio
@pytest.mark.parametrize(("age", "inside"), [(timedelta(days=30) - timedelta(hours=1), True),
                                             (timedelta(days=30) + timedelta(hours=1), False)])
async def test_an_old_visit_at_the_window_edge(seeded_graph: Graph, age: timedelta, inside: bool) -> None:
    """`withinDays: 30` means visited at or after now minus 30 days (to the second), and not after now."""
    await graphql_data(seeded_graph, """mutation ($at: DateTime!, $page: String!) {
        recordWebVisits(source: "Marketo 1", visits: [{id: "edge", personId: "1001", url: $page, visitedAt: $at}])
        { records } }""", at=stamp(datetime.now(UTC) - age), page=PAGE)
    expected = ["p1@townsend.com", "p2@townsend.com"] if inside else ["p2@townsend.com"]
    assert await audience_emails(seeded_graph) == expected


@pytest.mark.asyncio
async def test_the_sweep_marks_a_visit_that_came_due(seeded_graph: Graph) -> None:
    """A visit stamped ahead (within the skew) is re-evaluated by the sweep after its time has come."""
    await run_cypher(seeded_graph, "MATCH (p:PendingEvaluation) REMOVE p:PendingEvaluation")
    evaluator = Evaluator(seeded_graph)
    await evaluator.mark_expired()  # the first sweep records its time
    await run_cypher(seeded_graph, """MATCH (p:Person {email: 'p1@townsend.com'})
        CREATE (p)-[:VISITED]->(:WebVisit {source: 'Marketo 1', sourceKey: 'due', url: $page,
                                          firstSeenAt: datetime() - duration('PT2M'),
                                          visitedAt: datetime() - duration('PT1S')})""", page=PAGE)
    await run_cypher(seeded_graph, "MATCH (s:Sweep) SET s.at = datetime() - duration('PT1M')")
    await evaluator.mark_expired()
    marked = await run_cypher(seeded_graph, "MATCH (p:PendingEvaluation) RETURN p.email AS email")
    assert marked == [{"email": "p1@townsend.com"}]
