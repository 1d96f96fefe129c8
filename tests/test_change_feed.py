"""The change feed (service.realtime.feed): three service processes on one Neo4j. Changes written
through one of them reach the subscribers of the others, each change once and in feed order,
whichever process evaluated it; a subscriber that reconnects with `after` misses nothing.

Each "process" is a real service (its own application, driver, live loop, feed reader and
subscribers) on its own port; they share nothing but Neo4j."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import websockets

from service.database import Graph, Neo4jConnection
from service.realtime.feed import parse_cursor
from tests.helpers import ApiKeys, ServerThread, ServiceProcess, graphql_data, run_cypher

pytestmark = pytest.mark.asyncio

PAGE = "https://www.bodea.com/products/new-product"
PEOPLE = 12
SUBSCRIBE = """subscription ($id: ID, $after: String) {
  audienceChanges(segmentId: $id, after: $after) { email change position cursor } }"""
VISIT = """mutation ($id: String!, $person: String!, $url: String!, $at: DateTime!) {
  recordWebVisits(source: "Marketo 1", visits: [{id: $id, personId: $person, url: $url, visitedAt: $at}]) {
    records } }"""


@pytest.fixture(scope="module")
def servers(neo4j_connection: Neo4jConnection) -> Iterator[list[ServerThread]]:
    """Kept across the tests: each test's emptied graph restarts the feed, which every reader notices."""
    with ExitStack() as stack:
        yield [stack.enter_context(ServerThread(neo4j_connection, poll_seconds=0.5, sweep_seconds=3600))
               for _ in range(3)]


class Subscriber:
    def __init__(self, socket: Any) -> None:
        self.socket = socket

    async def next(self, timeout: float = 20) -> dict[str, Any]:
        message = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
        if message["type"] == "error":
            return {"errors": message["payload"]}
        assert message["type"] == "next", message
        if "errors" in message["payload"]:
            return {"errors": message["payload"]["errors"]}
        change: dict[str, Any] = message["payload"]["data"]["audienceChanges"]
        return change

    async def quiet_for(self, seconds: float) -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(self.socket.recv(), seconds)


async def subscribe(server: ServerThread, key: str, segment_id: str, after: str | None = None,
                    registered: bool = True) -> Subscriber:
    """A subscriber of the segment on `server`; once this returns, every later change reaches it
    (unless `registered` is False: a subscription refused at once never registers)."""
    socket = await websockets.connect(server.url.replace("http", "ws") + "/graphql",
                                      subprotocols=[websockets.Subprotocol("graphql-transport-ws")])
    await socket.send(json.dumps({"type": "connection_init", "payload": ApiKeys.header(key)}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    before = server.app.state.live.broker.subscribers
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
        "query": SUBSCRIBE, "variables": {"id": segment_id, "after": after}}}))
    for _ in range(500 if registered else 0):
        if server.app.state.live.broker.subscribers > before:
            break
        await asyncio.sleep(0.02)
    else:
        assert not registered, "the subscription did not start"
    return Subscriber(socket)


@pytest_asyncio.fixture
async def world(graph: Graph) -> AsyncIterator[str]:
    """PEOPLE people in Marketo 1 who have not visited, and the saved segment of recent visitors."""
    people = [{"id": f"f{n}", "email": f"person{n:02d}@feed.example"} for n in range(PEOPLE)]
    await graphql_data(graph, "mutation ($p: [PersonInput!]!) { upsertPeople(source: \"Marketo 1\", people: $p) "
                              "{ records } }", p=people)
    created = await graphql_data(graph, "mutation ($r: RuleInput!) { createSegment(name: \"Recent visitors\", "
                                        "rule: $r) { id } }", r={"visits": {"url": PAGE, "withinDays": 30}})
    yield created["createSegment"]["id"]


async def visit(client: httpx.AsyncClient, person: int) -> None:
    at = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    answer = (await client.post("/graphql", json={"query": VISIT, "variables": {
        "id": f"visit-{person}", "person": f"f{person}", "url": PAGE, "at": at}})).json()
    assert answer == {"data": {"recordWebVisits": {"records": 1}}}, answer


async def test_subscribers_on_every_process_hear_every_change_once_and_in_order(
        servers: list[ServerThread], world: str, api_keys: ApiKeys) -> None:
    writer, *others = servers
    subscribers = [await subscribe(server, api_keys.read, world) for server in others]
    async with httpx.AsyncClient(base_url=writer.url, timeout=30, headers=ApiKeys.header(api_keys.write)) as client:
        await asyncio.gather(*(visit(client, n) for n in range(PEOPLE)))  # concurrent: several rounds, any process
    expected = {f"person{n:02d}@feed.example" for n in range(PEOPLE)}
    heard = []
    for subscriber in subscribers:
        changes = [await subscriber.next() for _ in range(PEOPLE)]
        await subscriber.quiet_for(1.5)  # and nothing twice
        assert {c["email"] for c in changes} == expected and {c["change"] for c in changes} == {"ENTERED"}
        cursors = [parse_cursor(c["cursor"]) for c in changes]
        assert cursors == sorted(cursors) and len(set(cursors)) == PEOPLE, cursors
        heard.append([c["cursor"] for c in changes])
    assert heard[0] == heard[1], "both processes heard the same feed"
    read_to = [server.app.state.live.feed.position for server in servers]
    assert len(set(read_to)) == 1, read_to  # every process read the feed to its end, the writer's too


async def test_a_subscriber_resumes_after_its_last_change_without_missing_one(
        servers: list[ServerThread], world: str, api_keys: ApiKeys, graph: Graph) -> None:
    writer, listener, _ = servers
    first = await subscribe(listener, api_keys.read, world)
    async with httpx.AsyncClient(base_url=writer.url, timeout=30, headers=ApiKeys.header(api_keys.write)) as client:
        for n in range(3):
            await visit(client, n)
        heard = [await first.next() for _ in range(3)]
        await first.socket.close()  # gone: the next changes happen while nobody listens on this process
        for n in range(3, 6):
            await visit(client, n)
        await asyncio.sleep(1.0)  # evaluated meanwhile
    again = await subscribe(listener, api_keys.read, world, after=heard[1]["cursor"])
    resumed = [await again.next() for _ in range(4)]
    await again.quiet_for(1.0)
    everything = await subscribe(listener, api_keys.read, world, after="0:0")  # from the start of the feed
    feed = [await everything.next() for _ in range(6)]
    assert {c["email"] for c in feed} == {f"person{n:02d}@feed.example" for n in range(6)}
    assert heard == feed[:3] and resumed == feed[2:]  # the rest after the cursor: nothing missed or repeated
    for socket in (again.socket, everything.socket):
        await socket.close()


@pytest.mark.parametrize(("after", "message"), [("soon", "is not a cursor of audienceChanges"),
                                                ("999999:0", "is ahead of the change feed")])
async def test_a_bad_cursor_is_refused_and_says_why(servers: list[ServerThread], world: str, api_keys: ApiKeys,
                                                    after: str, message: str) -> None:
    subscriber = await subscribe(servers[0], api_keys.read, world, after=after, registered=False)
    answer = await subscriber.next()
    assert message in json.dumps(answer["errors"]), answer
    await subscriber.socket.close()


# ---- the sweep lease -----------------------------------------------------------------------------


async def test_one_process_sweeps_and_another_takes_over_when_it_dies(graph: Graph) -> None:
    """Two live loops, each due to sweep every 0.5 s: only the lease holder sweeps. When it is killed
    (its task cancelled, the lease not given back), the other sweeps once the lease has expired."""
    from service.realtime.broker import Broker
    from service.realtime.live import SWEEP_LEASE_INTERVALS, LiveAudiences

    sweep_seconds = 0.5
    loops = [LiveAudiences(graph, Broker(), poll_seconds=0.1, sweep_seconds=sweep_seconds) for _ in range(2)]
    swept: list[tuple[int, float]] = []
    for number, live in enumerate(loops):
        original = live.evaluator.mark_expired

        async def counted(number: int = number, original: Any = original) -> None:
            swept.append((number, time.monotonic()))
            await original()

        live.evaluator.mark_expired = counted  # type: ignore[method-assign]
    tasks = [asyncio.create_task(live.run()) for live in loops]
    try:
        # The first rounds plan their queries on a cold Neo4j and may outlast the lease (1 s), which
        # then rightly passes to the other loop: the count starts once the loops run warm.
        await asyncio.sleep(3)
        swept.clear()
        deadline = time.monotonic() + 30
        while len(swept) < 4:
            assert time.monotonic() < deadline, swept
            await asyncio.sleep(0.05)
        assert len({number for number, _ in swept}) == 1, swept  # one holder, sweeping on its own
        holder = swept[0][0]
        tasks[holder].cancel()  # killed: the lease is left as it was
        killed_at = time.monotonic()
        lease = SWEEP_LEASE_INTERVALS * sweep_seconds
        while not any(number != holder for number, _ in swept):
            assert time.monotonic() < killed_at + 30, swept
            await asyncio.sleep(0.05)
        taken_over = next(at for number, at in swept if number != holder)
        # the lease runs out at most `lease` after the holder's last sweep; the other is due within a sweep
        assert taken_over - killed_at <= lease + sweep_seconds + 1.0, (taken_over - killed_at, lease)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def test_of_processes_taking_an_expired_lease_at_once_exactly_one_holds_it(graph: Graph) -> None:
    from service.realtime.lease import Lease

    for round_ in range(5):
        await run_cypher(graph, "MERGE (l:Lease {name: 'race'}) "
                                "SET l.holder = 'gone', l.until = datetime() - duration('PT1S')")
        leases = [Lease(graph, "race", 60) for _ in range(8)]
        taken = await asyncio.gather(*(lease.take() for lease in leases))
        assert sum(taken) == 1, (round_, taken)


# ---- serve --workers N ---------------------------------------------------------------------------


def _workers(pid: int) -> list[int]:
    """The worker processes uvicorn started (not multiprocessing's resource tracker beside them)."""
    children = [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return [child for child in children if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]


async def test_serve_with_three_workers_delivers_every_change_to_subscribers_on_each(
        world: str, neo4j_connection: Neo4jConnection, api_keys: ApiKeys, tmp_path: Path) -> None:
    """`accountgraph serve --workers 3`: three real processes on one port. Subscribers land on whichever
    worker accepts them; each hears every change from the start of the feed (after "0:0"), once, in
    order, whichever worker took the writes and whichever evaluated them."""
    sockets = []
    with ServiceProcess(neo4j_connection, tmp_path / "serve.log", workers=3, ready_in_a_row=12,
                        LIVE_POLL_SECONDS="0.5", LIVE_SWEEP_SECONDS="3600") as service:
        url = service.url
        assert len(_workers(service.pid)) == 3
        subscribers = []
        for _ in range(6):
            socket = await websockets.connect(url.replace("http", "ws") + "/graphql",
                                              subprotocols=[websockets.Subprotocol("graphql-transport-ws")])
            sockets.append(socket)
            await socket.send(json.dumps({"type": "connection_init", "payload": ApiKeys.header(api_keys.read)}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
                "query": SUBSCRIBE, "variables": {"id": world, "after": "0:0"}}}))
            subscribers.append(Subscriber(socket))
        async with httpx.AsyncClient(base_url=url, timeout=30, headers=ApiKeys.header(api_keys.write)) as client:
            for n in range(6):
                await visit(client, n)
        heard = []
        for subscriber in subscribers:
            heard.append([await subscriber.next() for _ in range(6)])
            await subscriber.quiet_for(0.5)
        assert {c["email"] for c in heard[0]} == {f"person{n:02d}@feed.example" for n in range(6)}
        assert all(changes == heard[0] for changes in heard), "every subscriber heard the same feed"
        cursors = [parse_cursor(c["cursor"]) for c in heard[0]]
        assert cursors == sorted(set(cursors))
        for socket in sockets:
            await socket.close()
