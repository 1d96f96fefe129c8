"""Retention (service.realtime.retention): evaluations and web visits older than their settings are
removed by the holder of the `retention` lease; a removed visit's person is re-evaluated; a feed
cursor before what was removed is refused, saying why."""

from __future__ import annotations

import pytest

from service.config import Settings
from service.database import Graph
from service.limits import Retention
from service.realtime.feed import CursorError, replay
from service.realtime.retention import RetentionJob
from service.segments import engine, store
from tests.helpers import run_cypher

pytestmark = pytest.mark.asyncio

PAGE = "https://www.bodea.com/products/new-product"


async def test_old_evaluations_go_and_the_feed_refuses_a_cursor_before_them(seeded_graph: Graph) -> None:
    segment = await store.create(seeded_graph, "Recent visitors", "", {"visits": {"url": PAGE, "withinDays": 30}})
    first = await engine.evaluate(seeded_graph, segment["id"])  # p2 enters
    await run_cypher(seeded_graph, "MATCH (p:Person {email: 'p2@townsend.com'})-[m:IN_SEGMENT]->() DELETE m")
    second = await engine.evaluate(seeded_graph, segment["id"])  # p2 enters again: a later position
    assert first["position"] < second["position"]
    await run_cypher(seeded_graph, "MATCH (e:SegmentEvaluation {id: $id}) SET e.at = e.at - duration('P400D')",
                     id=first["id"])
    removed = await RetentionJob(seeded_graph, Retention(evaluation_days=365)).apply()
    assert removed == {"evaluations": 1, "visits": 0, "deliveries": 0}
    kept = await run_cypher(seeded_graph, "MATCH (e:SegmentEvaluation) RETURN e.id AS id")
    assert kept == [{"id": second["id"]}]
    with pytest.raises(CursorError, match=f"up to position {first['position']} are no longer kept"):
        [change async for change in replay(seeded_graph, "0:0", second["position"], None)]
    after_removed = [c.email async for c in replay(seeded_graph, f"{first['position']}:0", second["position"], None)]
    assert after_removed == ["p2@townsend.com"]


async def test_old_visits_go_and_their_people_are_evaluated_again(seeded_graph: Graph) -> None:
    await run_cypher(seeded_graph, "MATCH (p:Person {email: 'p3@townsend.com'})-[:VISITED]->(v:WebVisit) "
                                   "SET v.visitedAt = datetime() - duration('P400D')")
    before = await run_cypher(seeded_graph, "MATCH (v:WebVisit) RETURN count(v) AS n")
    removed = await RetentionJob(seeded_graph, Retention(visit_days=365)).apply()
    assert removed["visits"] >= 1 and removed["evaluations"] == 0
    after = await run_cypher(seeded_graph, "MATCH (v:WebVisit) RETURN count(v) AS n")
    assert after[0]["n"] == before[0]["n"] - removed["visits"]  # type: ignore[operator]
    assert await run_cypher(seeded_graph, "MATCH (p:Person {email: 'p3@townsend.com'})-[:VISITED]->(v) "
                                          "WHERE v.visitedAt < datetime() - duration('P365D') RETURN count(v) AS n") \
        == [{"n": 0}]
    assert await run_cypher(seeded_graph, "MATCH (p:Person {email: 'p3@townsend.com'}) "
                                          "RETURN p:PendingEvaluation AS marked") == [{"marked": True}]
    assert await RetentionJob(seeded_graph, Retention()).apply() == {"evaluations": 0, "visits": 0,
                                                                     "deliveries": 0}  # 0: kept


async def test_one_process_at_a_time_runs_it_and_the_settings_carry_it(graph: Graph,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    jobs = [RetentionJob(graph, Retention(visit_days=365, check_seconds=5)) for _ in range(2)]
    assert [await job.run_if_due() is not None for job in jobs] == [True, False]  # the second finds the lease held
    assert not RetentionJob(graph, Retention()).enabled
    monkeypatch.setenv("EVALUATION_RETENTION_DAYS", "400")
    monkeypatch.setenv("VISIT_RETENTION_DAYS", "730")
    monkeypatch.setenv("DELIVERY_RETENTION_DAYS", "14")
    assert Settings().retention() == Retention(evaluation_days=400, visit_days=730, delivery_days=14)


async def test_delivered_webhook_deliveries_older_than_the_setting_go_and_no_others(graph: Graph) -> None:
    """Only DELIVERED records count their age from deliveredAt; pending and dead ones are kept at any age."""
    await run_cypher(graph, """
        UNWIND [['old', 'DELIVERED', 31], ['recent', 'DELIVERED', 29], ['dead', 'DEAD', 400],
                ['pending', 'PENDING', 400]] AS d
        CREATE (:Delivery {id: d[0], status: d[1], emails: [], createdAt: datetime() - duration({days: d[2]}),
                           deliveredAt: CASE d[1] WHEN 'DELIVERED' THEN datetime() - duration({days: d[2]}) END})""")
    assert await RetentionJob(graph, Retention(delivery_days=30)).apply() == {"evaluations": 0, "visits": 0,
                                                                               "deliveries": 1}
    kept = await run_cypher(graph, "MATCH (o:Delivery) RETURN o.id AS id ORDER BY id")
    assert [row["id"] for row in kept] == ["dead", "pending", "recent"]
