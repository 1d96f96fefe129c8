"""The load test in small (`make load` runs it at 20 writers x 250 visits on three processes):
concurrent writers and readers against the real service in subprocesses; every visit lands exactly
once, no errors, and a subscriber on the last process hears each entry once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.load import markdown, run_load, write_report
from service.database import Graph, Neo4jConnection

CLIENTS, EVENTS, READERS = 4, 25, 2


@pytest.mark.asyncio
@pytest.mark.parametrize(("via", "processes"), [("graphql", 3), ("events", 1)])
async def test_a_small_load_writes_every_event_exactly_once_without_errors(
        graph: Graph, neo4j_connection: Neo4jConnection, tmp_path: Path, via: str, processes: int) -> None:
    report = await run_load(neo4j_connection, tmp_path, clients=CLIENTS, events=EVENTS, readers=READERS,
                            people=300, max_seconds=120, via=via, processes=processes)
    assert (report["config"]["via"], report["config"]["processes"]) == (via, processes)
    sent = CLIENTS * EVENTS
    assert report["writes"]["requests"] == report["writes"]["ok"] == sent, report["writes"]
    assert report["writes"]["errors"] == {} and report["reads"]["errors"] == {}, report
    assert report["reads"]["ok"] >= READERS, "the readers read while the writers wrote"
    assert report["exactly_once"] == {"sent": sent, "exactly_once": sent, "missing": 0, "duplicated": 0,
                                      "wrong_person": 0, "in_graph_with_run_prefix": sent}
    assert report["live_loop_caught_up_seconds"] is not None
    heard = report["subscriber"]
    assert heard["entered"] > 0 and heard["heard_twice"] == 0, heard
    assert heard["same_process"]["changes"] + heard["other_process"]["changes"] == heard["entered"], heard
    if processes > 1:
        assert heard["other_process"]["changes"] > 0, "writes through other processes reached the subscriber"
    assert report["passed"] is True
    assert report["writes"]["per_second"] > 0 and report["writes"]["latency_ms"]["p95"] > 0

    write_report(report, tmp_path / "out")
    assert json.loads((tmp_path / "out" / "load.json").read_text()) == report
    assert (tmp_path / "out" / "load.md").read_text() == markdown(report)
    assert f"{sent:,} of {sent:,} visits are in the graph exactly once" in markdown(report)
