"""No cold first request (service.warmup): every named query and every saved segment's compiled
queries are run once before /readyz says ready, with parameters of the types real requests send, and
a segment is warmed as it is saved. Whether a request then finds its plan cached is read from
Neo4j's own query statistics (db.stats: the compile time of each invocation)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from service.config import Settings
from service.database import Graph, Neo4jConnection
from service.queries import Q, Rendered, Template
from service.readiness import Readiness
from service.segments import engine, store
from service.segments.presets import audience_rule
from service.segments.rules import parse_rule
from service.timeouts import WARMUP_CHECK_SECONDS, WARMUP_SECONDS
from service.warmup import EXAMPLES, NOT_WARMED, parameter_names, warm
from tests.helpers import ServerThread, run_cypher

PAGE = "https://www.bodea.com/products/new-product"
NAMED = {query.value for query in Q if query not in NOT_WARMED}


def test_every_parameter_of_every_named_query_has_a_typed_example() -> None:
    missing = {query.value: sorted(parameter_names(query) - set(EXAMPLES)) for query in Q if query not in NOT_WARMED}
    assert {name: names for name, names in missing.items() if names} == {}
    assert parameter_names(Q.SEGMENT_MEMBER_PAGE) == {"id", "first", "after", "search"}  # the reader finds them


@pytest.mark.asyncio
async def test_the_warm_up_runs_every_named_query_and_every_saved_segment_and_keeps_nothing(graph: Graph) -> None:
    saved = await store.create(graph, "Townsend", "", audience_rule(100_000, PAGE, 30))
    before = await run_cypher(graph, "MATCH (n) RETURN count(n) AS nodes")
    report = await warm(graph, 120)
    assert report.failed == {}
    assert set(report.queries) == NAMED and len(report.queries) == len(NAMED)
    assert report.segments == [saved["id"]] and report.complete
    assert await run_cypher(graph, "MATCH (n) RETURN count(n) AS nodes") == before, "every rehearsal rolled back"


@pytest.mark.asyncio
async def test_the_warm_up_is_bounded_in_time(graph: Graph) -> None:
    report = await warm(graph, 0.001)
    assert not report.complete and len(report.queries) < len(NAMED)


async def _compile_times(graph: Graph, text: str, invocations: int) -> list[int]:
    """The compile time (µs) of each invocation of `text` since the collection started, once the
    collector (which records them asynchronously) holds `invocations` of them."""
    for _ in range(100):
        rows = await run_cypher(graph, "CALL db.stats.retrieve('QUERIES') YIELD data WHERE data.query = $text "
                                       "RETURN data.invocations AS invocations", text=text)
        times = [int(i["elapsedCompileTimeInUs"]) for row in rows for i in row["invocations"]]  # type: ignore
        if len(times) >= invocations:
            return times
        await asyncio.sleep(0.1)
    raise AssertionError(f"fewer than {invocations} invocations recorded of {text[:80]!r}")


@pytest.mark.asyncio
async def test_a_saved_segment_is_warmed_so_its_first_count_finds_its_plan_cached(graph: Graph) -> None:
    """The first count after the save against the same count with one more column, which Neo4j has
    not seen: the warmed one is found in the plan cache, the other is planned."""
    rule = audience_rule(100_000, PAGE, 30)
    compiled = await engine.compile_for(graph, parse_rule(rule))
    count = compiled.render(Template.SEGMENT_COUNT)
    unseen = Rendered(Template.SEGMENT_COUNT, count.text.replace("count(p) AS count", "count(p) + 0 AS count"))
    await run_cypher(graph, "CALL db.clearQueryCaches()")
    await run_cypher(graph, "CALL db.stats.clear('QUERIES')")
    await run_cypher(graph, "CALL db.stats.collect('QUERIES')")
    try:
        await store.create(graph, "Townsend", "", rule)  # warms the segment's queries as it saves it
        assert await engine.count(graph, compiled) == 0  # the first count a client asks for
        assert await graph.run_template(unseen, **compiled.parameters) == [{"count": 0}]
        # the rehearsal and the request, at least; the request ran last
        times = await _compile_times(graph, count.text, 2)
        first = times[-1]
        (cold,) = await _compile_times(graph, unseen.text, 1)
    finally:
        await run_cypher(graph, "CALL db.stats.stop('QUERIES')")
    # The request found the plan the rehearsal left; the unseen variant was planned. (The rehearsal's
    # own compile time is not compared: in the full suite another test's warm-up may have planned
    # the same text first, so it can be cached too.)
    assert first * 3 < cold, (times, cold)


@pytest.mark.asyncio
async def test_changing_a_segments_rule_warms_its_new_queries(graph: Graph, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = await store.create(graph, "Townsend", "", audience_rule(100_000, PAGE, 30))
    warmed: list[str] = []

    async def noting(graph_: Graph, segment: dict[str, Any]) -> list[str]:
        warmed.append(json.loads(segment["rule"])["and"][0]["opportunities"]["value"])
        return []

    monkeypatch.setattr(store, "warm_segment", noting)
    await store.update(graph, saved["id"], None, "a new description", None)
    assert warmed == [], "the rule did not change: nothing to warm"
    await store.update(graph, saved["id"], None, None, audience_rule(200_000, PAGE, 30))
    assert warmed == [200_000]


def test_readyz_says_ready_only_after_the_warm_up_and_says_what_it_warmed(neo4j_connection: Neo4jConnection) -> None:
    with ServerThread(neo4j_connection, wait_ready=False, poll_seconds=3600, sweep_seconds=3600) as server:
        states = []
        with httpx.Client(base_url=server.url, timeout=30) as client:
            while (ready := client.get("/readyz")).status_code != 200:
                states.append(ready.json()["status"])
            body: dict[str, Any] = ready.json()
        readiness: Readiness = server.app.state.readiness
        assert readiness.warmed.is_set() and len(readiness.warm_ups) == 1
    assert "warming" in states and set(states) <= {"starting", "warming"}
    assert body["status"] == "ready"
    assert body["warmed"]["queries"] == len(NAMED) and body["warmed"]["failed"] == []
    assert body["warmed"]["complete"] is True
    assert set(readiness.warm_ups[0].queries) == NAMED


def test_the_warm_up_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (Settings(_env_file=None).warmup_seconds, Settings(_env_file=None).warmup_check_seconds) == (
        WARMUP_SECONDS, WARMUP_CHECK_SECONDS)
    monkeypatch.setenv("WARMUP_SECONDS", "5")
    monkeypatch.setenv("WARMUP_CHECK_SECONDS", "0.5")
    assert (Settings(_env_file=None).warmup_seconds, Settings(_env_file=None).warmup_check_seconds) == (5, 0.5)
    monkeypatch.setenv("WARMUP_SECONDS", "0")
    with pytest.raises(ValidationError, match="warmup_seconds"):
        Settings(_env_file=None)
