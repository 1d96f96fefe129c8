"""The outbox of webhook deliveries (service.realtime.outbox) against a real Neo4j and a real HTTP
receiver: retries carry the same batch id, a delivery is dead-lettered and re-driven, and a service
process killed in the middle of retries leaves its delivery to another process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from service.activation.activate import DestinationSettings, activate, add_destination
from service.database import Graph, Neo4jConnection
from service.limits import RetryPolicy
from service.realtime.broker import Broker
from service.realtime.live import LiveAudiences
from service.realtime.outbox import Outbox
from tests.helpers import (
    ApiKeys,
    ServiceProcess,
    ago,
    execute_graphql,
    graphql_data,
    run_cypher,
    running,
    save_segment,
)
from tests.receiver import SECRET, Receiver

pytestmark = pytest.mark.asyncio

PAGE = "https://www.bodea.com/products/new-product"
VISIT = """mutation ($id: String!, $person: String!, $url: String!, $at: DateTime!) {
  recordWebVisits(source: "Marketo 1", visits: [{id: $id, personId: $person, url: $url, visitedAt: $at}]) {
    records } }"""
DELIVERIES = """query ($status: DeliveryStatus) { deliveries(status: $status) {
  id status attempts batchIds batchesDelivered people entered left lastError segment destination redriven } }"""
REDRIVE = "mutation ($id: ID!) { redriveDelivery(id: $id) { id status attempts redriven batchIds } }"
FAST = RetryPolicy(attempts=3, first_delay=0.1, factor=1.0, timeout=5)


async def until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := await check()):
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)
    return found


async def deliveries(graph: Graph, status: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await graphql_data(graph, DELIVERIES, status=status))["deliveries"]
    return found


async def all_delivered(graph: Graph, count: int) -> bool:
    return [d["status"] for d in await deliveries(graph)] == ["DELIVERED"] * count


@pytest_asyncio.fixture
async def receiver(seeded_graph: Graph, tmp_path: Path) -> AsyncIterator[Receiver]:
    """A receiver behind a DELTA webhook the segment of recent visitors of PAGE (p2 at first) was
    activated to (p2 sent: the receiver's first request); from here on each change is delivered live."""
    hook = Receiver(failures=0)
    try:
        recent = await save_segment(seeded_graph, "Recent visitors", {"visits": {"url": PAGE, "withinDays": 30}})
        await add_destination(seeded_graph, DestinationSettings("Hook", "WEBHOOK", url=hook.url, secret=SECRET))
        await activate(seeded_graph, recent, "Hook", tmp_path)
        assert len(hook.requests) == 1
        yield hook
    finally:
        hook.close()


def live(graph: Graph, policy: RetryPolicy = FAST) -> AbstractAsyncContextManager[None]:
    """The live loop of one process, with its outbox, running for the block."""
    return running(LiveAudiences(graph, Broker(), poll_seconds=0.2, sweep_seconds=3600, delivery=policy))


async def visit(graph: Graph, person: str, visit_id: str) -> None:
    await graphql_data(graph, VISIT, id=visit_id, person=person, url=PAGE, at=ago(seconds=1))


async def execute(graph: Graph, query: str, **variables: Any) -> str:
    """The message of the error a GraphQL operation must fail with."""
    result = await execute_graphql(graph, query, **variables)
    assert result.errors, result.data
    return result.errors[0].message


async def no_delivery_left(graph: Graph) -> bool:
    """No delivery left: one with nobody to send is dropped at its next try."""
    return await run_cypher(graph, "MATCH (o:Delivery) RETURN count(o) AS n") == [{"n": 0}]


def live_batch_ids(receiver: Receiver) -> list[str]:
    """The batch id of every request after the first (the manual activation), in order."""
    return [headers["X-Accountgraph-Batch-Id"] for headers, _ in receiver.requests[1:]]


async def test_a_failing_receiver_gets_the_same_batch_id_on_every_try_until_it_takes_it(
        seeded_graph: Graph, receiver: Receiver) -> None:
    receiver.failures = 2
    async with live(seeded_graph):
        await visit(seeded_graph, "1001", "outbox-1")
        [done] = await until(lambda: deliveries(seeded_graph, "DELIVERED"), "nothing was delivered")
    ids = live_batch_ids(receiver)
    assert len(ids) == 3 and len(set(ids)) == 1, ids  # two 503s, then taken: one batch id throughout
    assert done | {"id": None} == {"id": None, "status": "DELIVERED", "attempts": 3, "batchIds": ids[:1],
                                  "batchesDelivered": 1, "people": 0, "entered": 1, "left": 0, "lastError": None,
                                  "segment": "Recent visitors", "destination": "Hook", "redriven": False}
    [body] = [b for b in receiver.accepted() if b["batchId"] == ids[0]]
    assert ([m["email"] for m in body["entered"]], body["left"]) == (["p1@townsend.com"], [])
    sent = await run_cypher(seeded_graph, "MATCH (p:Person)-[:SENT_TO]->(:Destination {name: 'Hook'}) "
                                          "RETURN p.email AS email ORDER BY email")
    assert sent == [{"email": "p1@townsend.com"}, {"email": "p2@townsend.com"}]


async def test_changes_waiting_for_a_receiver_go_in_one_delivery_once_it_takes_them(
        seeded_graph: Graph, receiver: Receiver) -> None:
    """While the first delivery is retried, later changes of the segment wait behind it; then the
    waiting records are folded into one delivery (one batch, both people), not one per round."""
    await graphql_data(seeded_graph, 'mutation { upsertPeople(source: "Marketo 1", people: ['
                                     '{id: "2001", email: "p8@townsend.com"}, '
                                     '{id: "2002", email: "p9@townsend.com"}]) { records } }')
    receiver.failures = 4
    policy = RetryPolicy(attempts=10, first_delay=0.5, factor=1.0, timeout=5)
    async with live(seeded_graph, policy):
        await visit(seeded_graph, "1001", "outbox-1")
        await until(lambda: asyncio.sleep(0, len(receiver.requests) >= 2), "the first try was not made")
        await visit(seeded_graph, "2001", "outbox-2")  # waits behind p1's delivery
        await visit(seeded_graph, "2002", "outbox-3")  # another round's record
        await until(lambda: all_delivered(seeded_graph, 2), "not everything was delivered")
    first, later = receiver.accepted()[1:]
    assert [m["email"] for m in first["entered"]] == ["p1@townsend.com"]
    assert [m["email"] for m in later["entered"]] == ["p8@townsend.com", "p9@townsend.com"]


async def test_a_delivery_is_dead_lettered_after_its_tries_and_redriven_with_the_same_batch(
        seeded_graph: Graph, receiver: Receiver) -> None:
    receiver.failures = 1000
    async with live(seeded_graph):
        await visit(seeded_graph, "1001", "outbox-1")
        [dead] = await until(lambda: deliveries(seeded_graph, "DEAD"), "nothing was dead-lettered")
        assert (dead["attempts"], dead["lastError"], dead["people"]) == (3, "HTTP 503", 1)
        assert len(live_batch_ids(receiver)) == 3 and await deliveries(seeded_graph, "PENDING") == []
        receiver.failures = 0
        redriven = (await graphql_data(seeded_graph, REDRIVE, id=dead["id"]))["redriveDelivery"]
        assert redriven == {"id": dead["id"], "status": "PENDING", "attempts": 0, "redriven": True,
                            "batchIds": dead["batchIds"]}
        [done] = await until(lambda: deliveries(seeded_graph, "DELIVERED"), "the re-drive was not delivered")
        await asyncio.sleep(1)  # the check that follows a re-drive finds the receiver up to date: nothing more
    assert (done["id"], done["attempts"], done["redriven"]) == (dead["id"], 1, True)
    assert live_batch_ids(receiver) == dead["batchIds"] * 4
    assert [d["status"] for d in await deliveries(seeded_graph)] == ["DELIVERED"]
    again = await execute(seeded_graph, REDRIVE, id=dead["id"])
    assert again == f"no dead-lettered delivery with id {dead['id']!r}"


async def test_a_receiver_that_refuses_dead_letters_the_delivery_at_once(
        seeded_graph: Graph, receiver: Receiver) -> None:
    receiver.status = 400
    receiver.failures = 1
    async with live(seeded_graph):
        await visit(seeded_graph, "1001", "outbox-1")
        [dead] = await until(lambda: deliveries(seeded_graph, "DEAD"), "nothing was dead-lettered")
    assert (dead["attempts"], dead["lastError"]) == (1, "refused with HTTP 400")


async def test_an_erased_person_leaves_the_deliveries_not_yet_delivered(
        seeded_graph: Graph, receiver: Receiver) -> None:
    receiver.failures = 1000
    async with live(seeded_graph):
        await visit(seeded_graph, "1001", "outbox-1")
        [dead] = await until(lambda: deliveries(seeded_graph, "DEAD"), "nothing was dead-lettered")
        erased = await graphql_data(seeded_graph, 'mutation { erasePerson(email: "p1@townsend.com") '
                                                  '{ webhookDeliveries } }')
        assert erased == {"erasePerson": {"webhookDeliveries": 1}}
        [scrubbed] = await deliveries(seeded_graph, "DEAD")
        assert (scrubbed["people"], scrubbed["batchIds"]) == (0, [])
        receiver.failures = 0
        tried = len(receiver.requests)
        await graphql_data(seeded_graph, REDRIVE, id=dead["id"])
        await until(lambda: no_delivery_left(seeded_graph), "the emptied delivery was not dropped")
    assert len(receiver.requests) == tried  # it held nobody else: nothing more was sent


async def test_a_process_killed_in_the_middle_of_retries_leaves_the_delivery_to_another(
        seeded_graph: Graph, receiver: Receiver, neo4j_connection: Neo4jConnection, api_keys: ApiKeys,
        tmp_path: Path) -> None:
    """Two real service processes, one after the other: the first evaluates the change and tries its
    delivery until it is killed (SIGKILL); the second, started after, finds the delivery in the graph
    and sends it; the receiver sees one batch id throughout."""
    settings = {"LIVE_POLL_SECONDS": "0.3", "LIVE_SWEEP_SECONDS": "3600", "WEBHOOK_RETRY_SECONDS": "0.3",
                "WEBHOOK_RETRY_MAX_SECONDS": "0.3", "WEBHOOK_MAX_ATTEMPTS": "100", "WEBHOOK_TIMEOUT_SECONDS": "2"}
    receiver.failures = 1000
    with ServiceProcess(neo4j_connection, tmp_path / "first.log", **settings) as first:
        async with httpx.AsyncClient(base_url=first.url, headers=ApiKeys.header(api_keys.write)) as client:
            answer = await client.post("/graphql", json={"query": VISIT, "variables": {
                "id": "outbox-1", "person": "1001", "url": PAGE, "at": ago(seconds=1)}})
            assert answer.json() == {"data": {"recordWebVisits": {"records": 1}}}
        await until(lambda: asyncio.sleep(0, len(receiver.requests) >= 4), "the first process made no tries")
        first.kill()
    tried = len(receiver.requests)
    receiver.failures = 2  # the second process's first two tries fail too
    with ServiceProcess(neo4j_connection, tmp_path / "second.log", **settings):
        [done] = await until(lambda: deliveries(seeded_graph, "DELIVERED"), "the second process did not deliver")
    ids = live_batch_ids(receiver)
    assert len(ids) >= tried + 2 and set(ids) == set(done["batchIds"]), ids
    assert len(ids) - 1 <= done["attempts"] <= len(ids)  # a try cut short by the kill is not on record
    [body] = [b for b in receiver.accepted() if b["batchId"] == ids[0]]
    assert [m["email"] for m in body["entered"]] == ["p1@townsend.com"]


async def test_of_processes_claiming_at_once_exactly_one_gets_a_delivery(graph: Graph) -> None:
    await run_cypher(graph, "CREATE (:Delivery {id: 'd1', segmentId: 's', destination: 'Hook', status: 'PENDING', "
                            "position: 1, emails: ['a@b.example'], attempts: 0, delivered: 0, "
                            "createdAt: datetime(), nextAttemptAt: datetime()})")
    senders = [Outbox(graph, FAST) for _ in range(8)]
    claims = await asyncio.gather(*(sender.claim() for sender in senders))
    assert [claim[0]["id"] for claim in claims if claim] == ["d1"]
    holders = await run_cypher(graph, "MATCH (o:Delivery) RETURN o.claimedBy AS holder, o.claimLock AS lock")
    assert holders == [{"holder": next(s.holder for s, c in zip(senders, claims, strict=True) if c), "lock": None}]


async def test_an_account_audience_s_companies_reach_a_webhook_as_their_people(seeded_graph: Graph,
                                                                                tmp_path: Path) -> None:
    """An account audience of companies with three recent visitors: Townsend has two (p1, p2; p3's visit is
    42 days old), so it is empty when activated. p3 visits: Townsend enters, and the webhook is sent its
    people live, p1, p2 and p3, by the same outbox as a segment of people."""
    hook = Receiver(failures=0)
    try:
        created = await graphql_data(seeded_graph, """mutation { createSegment(name: "Three visitors",
            subject: COMPANY, rule: {people: {minCount: 3, where: {visits: {url: "https://www.bodea.com/",
            match: PREFIX, withinDays: 30}}}}) { id } }""")
        await add_destination(seeded_graph, DestinationSettings("Hook", "WEBHOOK", url=hook.url, secret=SECRET))
        first = await activate(seeded_graph, created["createSegment"]["id"], "Hook", tmp_path)
        assert first["sent"] == 0
        async with live(seeded_graph):
            await graphql_data(seeded_graph, VISIT.replace("Marketo 1", "Marketo 2"), id="outbox-p3", person="5508",
                               url=PAGE, at=ago(seconds=1))  # p3, as Marketo 2 knows them
            await until(lambda: all_delivered(seeded_graph, 1), "nothing was delivered")
        [body] = hook.accepted()[-1:]
        assert ([m["email"] for m in body["entered"]], body["left"]) == (
            ["p1@townsend.com", "p2@townsend.com", "p3@townsend.com"], [])
    finally:
        hook.close()
