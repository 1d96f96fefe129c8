"""Real time: changes arriving through the API move people in and out of saved segments at once,
and subscribers and webhooks hear of it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import websockets

from service.activation.activate import DestinationSettings, activate, add_destination
from service.database import Graph, Neo4jConnection
from service.ingest.pipeline import ingest_path
from service.limits import RetryPolicy
from service.realtime.broker import AudienceChange, Broker, Subscription
from service.realtime.live import LiveAudiences
from service.segments import engine
from service.segments.presets import audience_rule
from service.segments.rules import parse_rule
from tests.helpers import ApiKeys, ServerThread, ago, run_cypher, running, save_segment
from tests.receiver import SECRET, Receiver

pytestmark = pytest.mark.asyncio

PAGE = "https://www.bodea.com/products/new-product"
SUBSCRIBE = "subscription ($id: ID) { audienceChanges(segmentId: $id) { email change segmentName } }"


async def members(graph: Graph, segment_id: str) -> list[str]:
    rows = await run_cypher(graph,
                            "MATCH (p:Person)-[:IN_SEGMENT]->(:Segment {id: $id}) RETURN p.email AS e ORDER BY e",
                            id=segment_id)
    return [row["e"] for row in rows]


@pytest.fixture
def server(neo4j_connection: Neo4jConnection, api_keys: ApiKeys) -> Iterator[ServerThread]:
    with ServerThread(neo4j_connection, poll_seconds=0.2, sweep_seconds=3600) as running:
        running.keys = api_keys
        yield running


def keys(server: ServerThread) -> ApiKeys:
    assert server.keys is not None
    return server.keys


class Subscriber:
    """A graphql-transport-ws client of the running service."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket

    async def next(self, timeout: float = 15) -> dict[str, Any]:
        message = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
        assert message["type"] == "next", message
        return message["payload"]["data"]["audienceChanges"]

    async def nothing_for(self, seconds: float) -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(self.socket.recv(), seconds)


@pytest_asyncio.fixture
async def subscribe(server: ServerThread) -> AsyncIterator[Any]:
    sockets: list[Any] = []

    async def start(segment_id: str) -> Subscriber:
        socket = await websockets.connect(server.url.replace("http", "ws") + "/graphql",
                                          subprotocols=["graphql-transport-ws"])
        sockets.append(socket)
        # A read key is enough to listen.
        await socket.send(json.dumps({"type": "connection_init", "payload": ApiKeys.header(keys(server).read)}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        before = server.app.state.live.broker.subscribers
        await socket.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": SUBSCRIBE, "variables": {"id": segment_id}}}))
        deadline = time.monotonic() + 10
        while server.app.state.live.broker.subscribers == before:  # registered: changes from now on reach it
            assert time.monotonic() < deadline, "the subscription did not start"
            await asyncio.sleep(0.02)
        return Subscriber(socket)

    yield start
    for socket in sockets:
        await socket.close()


async def post_graphql(server: ServerThread, query: str, **variables: Any) -> dict[str, Any]:
    """An upsert mutation, sent as ingestion systems do: with a write-only key."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers=ApiKeys.header(keys(server).write)) as client:
        body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
    assert not body.get("errors"), body
    return body["data"]


VISIT = """mutation ($id: String!, $person: String!, $at: DateTime!) {
  recordWebVisits(source: "Marketo 1", visits: [
    {id: $id, personId: $person, url: "https://www.bodea.com/products/new-product", visitedAt: $at}]) { records } }"""


async def test_a_visit_arriving_by_mutation_brings_p2_into_the_audience(seeded_graph: Graph, tmp_path: Path,
                                                                         server: ServerThread, subscribe: Any) -> None:
    (tmp_path / "web-visits.csv").write_text("Id,IsDeleted\nm1-visit-0001,true\n")
    await ingest_path(seeded_graph, tmp_path / "web-visits.csv", "Marketo 1")
    townsend = await save_segment(seeded_graph, "Townsend", audience_rule(1_000_000, PAGE, 30))
    assert await members(seeded_graph, townsend) == []
    subscriber = await subscribe(townsend)
    await post_graphql(server, VISIT, id="live-1", person="1002", at=ago(seconds=5))
    assert await subscriber.next() == {"email": "p2@townsend.com", "change": "ENTERED", "segmentName": "Townsend"}
    assert await members(seeded_graph, townsend) == ["p2@townsend.com"]
    await post_graphql(server, VISIT, id="live-2", person="1002", at=ago(seconds=1))  # already in: no message
    await subscriber.nothing_for(1.0)


async def test_a_won_deal_brings_in_every_visiting_person_of_the_company(seeded_graph: Graph, server: ServerThread,
                                                                        subscribe: Any) -> None:
    await post_graphql(server, VISIT, id="p1-visit", person="1001", at=ago(days=1))
    townsend = await save_segment(seeded_graph, "Townsend 1.3M", audience_rule(1_300_000, PAGE, 30))
    assert await members(seeded_graph, townsend) == []
    subscriber = await subscribe(townsend)
    await post_graphql(server, """mutation { upsertOpportunities(source: "CRM 2", opportunities: [{id: "0062B00012",
        accountId: "0012B00007", name: "Printer service renewal", amount: 300000, stageName: "Closed Won",
        closeDate: "2026-11-20"}]) { records } }""")
    entered = sorted([(await subscriber.next())["email"], (await subscriber.next())["email"]])
    assert entered == ["p1@townsend.com", "p2@townsend.com"]  # p3's visit is outside the window


async def test_removing_the_mdm_link_drops_p2(seeded_graph: Graph, server: ServerThread, subscribe: Any) -> None:
    townsend = await save_segment(seeded_graph, "Townsend", audience_rule(1_000_000, PAGE, 30))
    assert await members(seeded_graph, townsend) == ["p2@townsend.com"]
    subscriber = await subscribe(townsend)
    await post_graphql(server, 'mutation { upsertSameCompanyLinks(links: '
                               '[{linkId: "MDM-TOWNSEND-0001", isDeleted: true}]) { records } }')
    assert await subscriber.next() == {"email": "p2@townsend.com", "change": "LEFT", "segmentName": "Townsend"}
    assert await members(seeded_graph, townsend) == []


async def test_events_endpoint_takes_a_batch_and_rejects_a_bad_one_whole(seeded_graph: Graph, server: ServerThread,
                                                                        subscribe: Any) -> None:
    townsend = await save_segment(seeded_graph, "Recent visitors", {"visits": {"url": PAGE, "withinDays": 30}})
    subscriber = await subscribe(townsend)
    async with httpx.AsyncClient(base_url=server.url, timeout=30, headers={"X-API-Key": keys(server).write}) as client:
        bad = await client.post("/events", json={"source": "Marketo 1", "events": [
            {"type": "webVisit", "Id": "e1", "PersonId": "1001", "Url": PAGE, "VisitedAt": ago(seconds=1)},
            {"type": "webVisit", "Id": "e2", "PersonId": "1001", "Url": PAGE, "VisitedAt": "soon"}]})
        assert bad.status_code == 400
        assert bad.json()["errors"] == [{"file": "events", "line": 1, "id": "e2", "column": "VisitedAt",
                                         "reason": "'soon' is not an ISO 8601 date-time"}]
        good = await client.post("/events", json={"source": "Marketo 1", "events": [
            {"type": "webVisit", "Id": "e1", "PersonId": "1001", "Url": PAGE, "VisitedAt": ago(seconds=1)}]})
        assert good.status_code == 200 and good.json()["records"] == 1
    assert await subscriber.next() == {"email": "p1@townsend.com", "change": "ENTERED",
                                       "segmentName": "Recent visitors"}


async def test_a_visit_leaving_the_window_is_an_exit(seeded_graph: Graph, tmp_path: Path) -> None:
    recent = await save_segment(seeded_graph, "Recent visitors", {"visits": {"url": PAGE, "withinDays": 30}})
    (tmp_path / "web-visits.csv").write_text(
        f"Id,PersonId,Url,VisitedAt\nedge,1001,{PAGE},{ago(days=30, seconds=-3)}\n")
    await ingest_path(seeded_graph, tmp_path / "web-visits.csv", "Marketo 1")
    live = LiveAudiences(seeded_graph, Broker(), sweep_seconds=0)
    entered = await live.step()
    assert [(c.email, c.change) for c in entered] == [("p1@townsend.com", "ENTERED")]
    await asyncio.sleep(4)
    left = await live.step()
    assert [(c.email, c.change) for c in left] == [("p1@townsend.com", "LEFT")]
    assert await members(seeded_graph, recent) == ["p2@townsend.com"]


async def test_a_change_waits_in_the_graph_until_evaluated(seeded_graph: Graph, tmp_path: Path) -> None:
    recent = await save_segment(seeded_graph, "Recent visitors", {"visits": {"url": PAGE, "withinDays": 30}})
    (tmp_path / "web-visits.csv").write_text(f"Id,PersonId,Url,VisitedAt\nnew,1001,{PAGE},{ago(seconds=1)}\n")
    await ingest_path(seeded_graph, tmp_path / "web-visits.csv", "Marketo 1")  # no service running
    assert await run_cypher(seeded_graph,
                            "MATCH (p:PendingEvaluation) RETURN p.email AS e") == [{"e": "p1@townsend.com"}]
    changes = await LiveAudiences(seeded_graph, Broker()).step()  # as a service starting later would
    assert [(c.email, c.change) for c in changes] == [("p1@townsend.com", "ENTERED")]
    assert await run_cypher(seeded_graph, "MATCH (p:PendingEvaluation) RETURN count(p) AS n") == [{"n": 0}]
    assert await members(seeded_graph, recent) == ["p1@townsend.com", "p2@townsend.com"]


async def test_concurrent_events_converge_on_the_full_evaluation(seeded_graph: Graph, server: ServerThread) -> None:
    rule = audience_rule(1_200_000, PAGE, 30)
    townsend = await save_segment(seeded_graph, "Townsend 1.2M", rule)
    deals = [("0061A00001", "0011A00001", "CRM 1", 200_000 + step * 10_000, "Closed Won") for step in range(6)]
    deals += [("0062B00012", "0012B00007", "CRM 2", amount, "Closed Won") for amount in (300_000, 310_000, 320_000)]
    visits = [("1001", f"c-{i}", ago(days=i * 7)) for i in range(6)] + [("5508", "c-p3", ago(days=2))]

    async def deal(key: str, account: str, source: str, amount: float, stage: str) -> None:
        await post_graphql(server, """mutation ($s: String!, $k: String!, $a: String!, $m: Float!, $st: String!) {
            upsertOpportunities(source: $s, opportunities: [{id: $k, accountId: $a, name: "Deal", amount: $m,
              stageName: $st, closeDate: "2026-10-01"}]) { records } }""", s=source, k=key, a=account, m=amount,
              st=stage)

    async def visit(person: str, key: str, at: str) -> None:
        source = "Marketo 2" if person == "5508" else "Marketo 1"
        await post_graphql(server, """mutation ($s: String!, $k: String!, $p: String!, $at: DateTime!) {
            recordWebVisits(source: $s, visits: [{id: $k, personId: $p, url: "https://www.bodea.com/products/new-product",
              visitedAt: $at}]) { records } }""", s=source, k=key, p=person, at=at)

    await asyncio.gather(*(deal(*d) for d in deals), *(visit(*v) for v in visits))
    deadline = time.monotonic() + 30
    while await run_cypher(seeded_graph, "MATCH (p:PendingEvaluation) RETURN count(p) AS n") != [{"n": 0}]:
        assert time.monotonic() < deadline, "the live loop did not catch up"
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)  # a round that claimed the last marks commits
    compiled = await engine.compile_for(seeded_graph, parse_rule(rule))
    expected = [row["email"] for row in await engine.all_members(seeded_graph, compiled, 1000)]
    assert await members(seeded_graph, townsend) == expected
    assert expected == ["p1@townsend.com", "p2@townsend.com", "p3@townsend.com"]  # whatever order the events ran in


async def test_a_webhook_hears_the_same_changes(seeded_graph: Graph, tmp_path: Path, server: ServerThread,
                                                subscribe: Any) -> None:
    receiver = Receiver(failures=0)
    try:
        recent = await save_segment(seeded_graph, "Recent visitors", {"visits": {"url": PAGE, "withinDays": 30}})
        await add_destination(seeded_graph, DestinationSettings("Hook", "WEBHOOK", url=receiver.url, secret=SECRET))
        await activate(seeded_graph, recent, "Hook", tmp_path, RetryPolicy(first_delay=0.01))
        subscriber = await subscribe(recent)
        await post_graphql(server, VISIT, id="hook-1", person="1001", at=ago(seconds=1))
        assert await subscriber.next() == {"email": "p1@townsend.com", "change": "ENTERED",
                                           "segmentName": "Recent visitors"}
        deadline = time.monotonic() + 10
        while len(receiver.accepted()) < 2:
            assert time.monotonic() < deadline, "the webhook heard nothing"
            await asyncio.sleep(0.1)
        first, live = receiver.accepted()
        assert [m["email"] for m in first["entered"]] == ["p2@townsend.com"]
        assert ([m["email"] for m in live["entered"]], live["left"]) == (["p1@townsend.com"], [])
    finally:
        receiver.close()


async def test_a_deal_marks_the_people_of_its_own_account_too(seeded_graph: Graph, tmp_path: Path) -> None:
    """p3 is only on the account that holds the deal (a regression: they were left unmarked)."""
    big = await save_segment(seeded_graph, "Above 1.2M", {"opportunities": {"op": "GT", "value": 1_200_000}})
    assert await members(seeded_graph, big) == []
    (tmp_path / "opportunities.csv").write_text(
        "Id,AccountId,Name,Amount,StageName,CloseDate\n0062B00012,0012B00007,Renewal,300000,Closed Won,2026-11-20\n")
    await ingest_path(seeded_graph, tmp_path / "opportunities.csv", "CRM 2")
    changes = await LiveAudiences(seeded_graph, Broker()).step()
    assert sorted(c.email for c in changes) == ["p1@townsend.com", "p2@townsend.com", "p3@townsend.com"]


async def next_change(changes: Subscription) -> asyncio.Future[AudienceChange]:
    """Wait for the next change in the background."""
    return asyncio.ensure_future(changes.next())


async def visit_file(graph: Graph, folder: Path, person: str, source: str) -> None:
    (folder / "web-visits.csv").write_text(f"Id,PersonId,Url,VisitedAt\nv-{person},{person},{PAGE},{ago(seconds=1)}\n")
    await ingest_path(graph, folder / "web-visits.csv", source)


async def test_a_write_through_the_database_layer_wakes_the_loop_long_before_its_poll(seeded_graph: Graph,
                                                                                        tmp_path: Path) -> None:
    recent = await save_segment(seeded_graph, "Recent visitors", {"visits": {"url": PAGE, "withinDays": 30}})
    broker = Broker()
    changes = broker.open(recent)
    async with running(LiveAudiences(seeded_graph, broker, poll_seconds=60, sweep_seconds=3600)):
        entered = await next_change(changes)
        await visit_file(seeded_graph, tmp_path, "1001", "Marketo 1")  # nobody tells the loop: the graph does
        change = await asyncio.wait_for(entered, 10)
    assert (change.email, change.change) == ("p1@townsend.com", "ENTERED")
    changes.close()


async def test_a_hanging_webhook_receiver_delays_no_evaluation_and_no_subscriber(seeded_graph: Graph,
                                                                                   tmp_path: Path) -> None:
    receiver = Receiver(failures=0)
    broker = Broker()
    changes = broker.open(None)
    live = LiveAudiences(seeded_graph, broker, poll_seconds=60, sweep_seconds=3600)
    try:
        recent = await save_segment(seeded_graph, "Recent visitors", {"visits": {"url": PAGE, "withinDays": 30}})
        await add_destination(seeded_graph, DestinationSettings("Hook", "WEBHOOK", url=receiver.url, secret=SECRET))
        await activate(seeded_graph, recent, "Hook", tmp_path, RetryPolicy(first_delay=0.01))
        assert len(receiver.requests) == 1
        receiver.hanging = True  # from now on the receiver takes each request and never answers
        async with running(live):
            first = await next_change(changes)
            await visit_file(seeded_graph, tmp_path, "1001", "Marketo 1")
            assert (await asyncio.wait_for(first, 10)).email == "p1@townsend.com"
            deadline = time.monotonic() + 10
            while len(receiver.requests) < 2:  # the live delivery of p1 is under way, and hangs
                assert time.monotonic() < deadline, "the webhook delivery did not start"
                await asyncio.sleep(0.05)
            second = await next_change(changes)
            await visit_file(seeded_graph, tmp_path, "5508", "Marketo 2")
            assert (await asyncio.wait_for(second, 5)).email == "p3@townsend.com"
            assert await members(seeded_graph, recent) == ["p1@townsend.com", "p2@townsend.com", "p3@townsend.com"]
            waiting = await run_cypher(seeded_graph, "MATCH (o:Delivery) RETURN o.emails AS emails, "
                                                     "o.claimedBy IS NOT NULL AS claimed ORDER BY o.position")
            assert waiting == [{"emails": ["p1@townsend.com"], "claimed": True},  # being sent, and hanging
                               {"emails": ["p3@townsend.com"], "claimed": False}], "p3's change waits behind it"
            assert len(receiver.requests) == 2
    finally:
        receiver.close()
        changes.close()


class CountedRounds:
    """Wraps a loop's Evaluator.evaluate_pending: the limit each round was given and when it began."""

    def __init__(self, live: LiveAudiences) -> None:
        self.limits: list[int] = []
        self.began: list[float] = []
        evaluate = live.evaluator.evaluate_pending

        async def counted(limit: int) -> tuple[int, list[AudienceChange]]:
            self.limits.append(limit)
            self.began.append(time.monotonic())
            return await evaluate(limit)

        live.evaluator.evaluate_pending = counted  # type: ignore[method-assign]


async def visits_file(graph: Graph, folder: Path, source: str, rows: list[tuple[str, str]]) -> None:
    """Visits (id, person) to the page a second ago, written as an import from `source`."""
    lines = "".join(f"{key},{person},{PAGE},{ago(seconds=1)}\n" for key, person in rows)
    (folder / "web-visits.csv").write_text("Id,PersonId,Url,VisitedAt\n" + lines)
    await ingest_path(graph, folder / "web-visits.csv", source)


async def test_a_backlog_is_claimed_in_growing_rounds_each_change_once(seeded_graph: Graph, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A full round means more are waiting: the next claims twice as many, up to MAX_BATCH (here 1
    and 2 stand for 500 and 4,000), until a round comes back short."""
    monkeypatch.setattr("service.realtime.live.BATCH", 1)
    monkeypatch.setattr("service.realtime.live.MAX_BATCH", 2)
    recent = await save_segment(seeded_graph, "Recent visitors", {"visits": {"url": PAGE, "withinDays": 30}})
    await visits_file(seeded_graph, tmp_path, "Marketo 1", [("b-1", "1001"), ("b-2", "1002")])
    await visits_file(seeded_graph, tmp_path, "Marketo 2", [("b-3", "5508")])
    live = LiveAudiences(seeded_graph, Broker())
    rounds = CountedRounds(live)
    changes = await live.step()
    # Three marked (p2 already in): 1 claimed of 1, 2 of 2, then none of 2.
    assert rounds.limits == [1, 2, 2]
    assert sorted((c.email, c.change) for c in changes) == [("p1@townsend.com", "ENTERED"),
                                                            ("p3@townsend.com", "ENTERED")]
    assert await run_cypher(seeded_graph, "MATCH (p:PendingEvaluation) RETURN count(p) AS n") == [{"n": 0}]
    assert await members(seeded_graph, recent) == ["p1@townsend.com", "p2@townsend.com", "p3@townsend.com"]


async def test_under_a_stream_of_writes_rounds_begin_at_most_once_per_gap(seeded_graph: Graph,
                                                                          tmp_path: Path) -> None:
    """Each commit wakes the loop, but a round begins at most every round_gap_seconds: the writes
    of the gap are claimed together (here a gap of 1 s against writes a few ms apart)."""
    recent = await save_segment(seeded_graph, "Recent visitors", {"visits": {"url": PAGE, "withinDays": 30}})
    broker = Broker()
    changes = broker.open(recent)
    live = LiveAudiences(seeded_graph, broker, poll_seconds=60, sweep_seconds=3600, round_gap_seconds=1.0)
    async with running(live):
        rounds = CountedRounds(live)
        entered = await next_change(changes)
        started = time.monotonic()
        for number in range(12):  # p2 (already in) visits again and again, then p1 once
            await visits_file(seeded_graph, tmp_path, "Marketo 1", [(f"s-{number}", "1002")])
        await visits_file(seeded_graph, tmp_path, "Marketo 1", [("s-p1", "1001")])
        writing = time.monotonic() - started
        change = await asyncio.wait_for(entered, 10)
        await asyncio.sleep(1.2)  # any round still due has run
    assert (change.email, change.change) == ("p1@townsend.com", "ENTERED")
    # 13 commits, each a wake; one round per second of writing at most, and the one due after it.
    assert 1 <= len(rounds.began) <= writing / 1.0 + 2, (len(rounds.began), writing)
    assert all(later - earlier >= 0.99 for earlier, later in zip(rounds.began, rounds.began[1:], strict=False))
    assert await run_cypher(seeded_graph, "MATCH (p:PendingEvaluation) RETURN count(p) AS n") == [{"n": 0}]
    changes.close()
