"""The outbox of webhook deliveries, kept in the graph (docs/realtime.md, docs/scaling.md).

An evaluation that changes a segment's members queues a `Delivery` for each DELTA webhook the segment
was activated to, in its own transaction (outbox/deliveries_enqueue), so a change is never evaluated
without its delivery being on record. Every process sends: it claims a due delivery for a while
(the claim expires if the process dies), and the deliveries of one segment to one destination go one
at a time, oldest first. At its first try a delivery's batches are worked out and kept (later records
of the same segment and destination that wait are folded into it); every retry sends those same
bodies, so the receiver sees the same batch ids. A failed try is retried after a back-off
(RetryPolicy); after the last try, or at once when the receiver refuses, the delivery is dead-lettered
until re-driven (`redriveDelivery`). A delivered record keeps its batch ids and counts, not its people.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from enum import StrEnum
from typing import Any

import httpx

from service.activation.activate import webhook_bodies
from service.activation.addresses import AddressRefused, check_webhook_url
from service.activation.webhook import Failure, post
from service.database import DatabaseUnavailable, Graph, Transaction
from service.errors import AccountGraphError, ErrorCode
from service.limits import RetryPolicy
from service.metrics import WEBHOOK_ATTEMPTS
from service.queries import Q

log = logging.getLogger("accountgraph.outbox")

CLAIM_MARGIN_SECONDS = 5.0  # a claim outlives one try's timeout by this much (renewed after each batch)
CLAIM_TRIES = 3  # candidates looked at per claim when another process takes them first


class DeliveryStatus(StrEnum):
    """Where a webhook delivery stands: PENDING (to be sent, or retried at nextAttemptAt), DELIVERED
    (every batch taken by the receiver), DEAD (dead-lettered: refused, or out of tries; re-drivable)."""

    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    DEAD = "DEAD"


class DeliveryNotDead(AccountGraphError, LookupError):
    default_code = ErrorCode.NOT_FOUND


class Outbox:
    """Sends the deliveries of the outbox, up to `concurrency` at a time, woken when deliveries are
    queued and looking every `poll_seconds` for those queued elsewhere or due for a retry."""

    def __init__(self, graph: Graph, policy: RetryPolicy, poll_seconds: float = 1.0, concurrency: int = 4) -> None:
        self.graph = graph
        self.policy = policy
        self.poll_seconds = poll_seconds
        self.concurrency = concurrency
        self.holder = uuid.uuid4().hex
        self._wake = asyncio.Event()
        self._sending: set[asyncio.Task[None]] = set()

    def wake(self) -> None:
        self._wake.set()

    @property
    def claim_milliseconds(self) -> int:
        return round((self.policy.timeout + CLAIM_MARGIN_SECONDS) * 1000)

    async def run(self) -> None:
        """Claim and send until cancelled: when woken (deliveries were queued here, or a send ended)
        and at each poll (deliveries queued elsewhere, retries come due, claims of dead processes
        expired). The first look is at the first wake or poll, not at start-up, when the live loop
        and the warm-up already wait on Neo4j."""
        try:
            while True:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                except TimeoutError:
                    pass
                self._wake.clear()
                try:
                    while len(self._sending) < self.concurrency and (claimed := await self.claim()):
                        task = asyncio.create_task(self.send(*claimed), name="webhook delivery")
                        self._sending.add(task)
                        task.add_done_callback(self._sent)
                except asyncio.CancelledError:
                    raise
                except DatabaseUnavailable:
                    pass  # the live loop says so; claims resume with Neo4j
                except Exception:
                    log.exception("claiming a webhook delivery failed; trying again")
        finally:
            for task in list(self._sending):
                task.cancel()

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        self._wake.set()  # room for another

    async def claim(self) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        """A due delivery claimed by this process, with its destination's address (None when the
        destination was removed); None when nothing is due."""

        async def work(tx: Transaction) -> tuple[dict[str, Any], dict[str, Any] | None] | str | None:
            candidate = await tx.run(Q.DELIVERY_NEXT, holder=self.holder)
            if not candidate:
                return None
            claimed = await tx.run(Q.DELIVERY_CLAIM, id=candidate[0]["id"], holder=self.holder,
                                   milliseconds=self.claim_milliseconds)
            return (claimed[0]["delivery"], claimed[0]["destination"]) if claimed else "taken"

        for _ in range(CLAIM_TRIES):
            found = await self.graph.write_work(work)
            if found != "taken":
                return found if isinstance(found, tuple) else None
        return None

    async def send(self, delivery: dict[str, Any], destination: dict[str, Any] | None) -> None:
        """Try the claimed delivery once (each of its batches not yet taken), and record how it went."""
        try:
            if destination is None:
                await self._failed(delivery, Failure("the destination was removed", refused=True))
                return
            if delivery["bodies"] is None and not await self._build(delivery, destination):
                return  # nothing left to send: its people are where the receiver has them
            await self._try(delivery, destination)
        except asyncio.CancelledError:
            raise
        except DatabaseUnavailable as unavailable:
            log.warning("webhook delivery %s waits for Neo4j (%s); its claim expires and it is sent again",
                        delivery["id"], unavailable)
        except Exception:
            log.exception("webhook delivery %s failed; its claim expires and it is sent again", delivery["id"])

    async def _build(self, delivery: dict[str, Any], destination: dict[str, Any]) -> bool:
        """Work out and keep the batches of a delivery at its first try; False when there is nothing to send."""

        async def work(tx: Transaction) -> bool:
            gathered = await tx.run(Q.DELIVERY_GATHER, id=delivery["id"], holder=self.holder)
            if not gathered:
                return False
            [audience] = await tx.run(Q.ACTIVATION_AUDIENCE, segmentId=delivery["segmentId"],
                                      destination=delivery["destination"], emails=gathered[0]["emails"])
            built = webhook_bodies(delivery["segmentId"], delivery["destination"], destination["mode"], audience)
            bodies = [body.decode("utf-8") for body in built.bodies]
            await tx.run(Q.DELIVERY_BUILT, id=delivery["id"], holder=self.holder, bodies=bodies,
                         batches=[json.loads(body)["batchId"] for body in bodies], entered=built.entered,
                         left=built.left, sent=built.sent, withoutConsent=audience["withoutConsent"],
                         unknownToDestination=audience["unknownToDestination"])
            delivery["bodies"], delivery["delivered"] = bodies, 0
            return bool(bodies)

        return await self.graph.write_work(work)

    async def _try(self, delivery: dict[str, Any], destination: dict[str, Any]) -> None:
        url, secret = destination["url"], destination["secret"]
        try:
            await check_webhook_url(url)
        except AddressRefused as refused:
            await self._failed(delivery, Failure(f"not sent: {refused}", refused=True))
            return
        async with httpx.AsyncClient(timeout=self.policy.timeout) as client:
            for index in range(delivery["delivered"], len(delivery["bodies"])):
                failure = await post(client, url, secret, delivery["bodies"][index].encode("utf-8"))
                if failure is not None:
                    await self._failed(delivery, failure)
                    return
                await self.graph.run(Q.DELIVERY_PROGRESS, id=delivery["id"], holder=self.holder, delivered=index + 1,
                                     milliseconds=self.claim_milliseconds)
        if await self.graph.write_work(self._done, delivery["id"]):
            WEBHOOK_ATTEMPTS.labels("delivered").inc()  # counted once committed (the work may be retried)

    async def _done(self, tx: Transaction, delivery_id: str) -> bool:
        """Delivered: the record says so, and the segment's sent set at the destination moves (an
        activation record, as a manual send makes), in one transaction."""
        rows = await tx.run(Q.DELIVERY_DONE, id=delivery_id, holder=self.holder)
        if not rows:
            return False  # the claim ran out and another process took it over, or an erasure changed it: theirs now
        done = rows[0]["done"]
        await tx.run(Q.ACTIVATION_RECORD, id=str(uuid.uuid4()), segmentId=done["segmentId"],
                     destination=done["destination"], sent=done["sent"], withoutConsent=done["withoutConsent"],
                     unknownToDestination=done["unknownToDestination"], entered=done["enteredEmails"],
                     left=done["leftEmails"], files=[], batches=done["batchIds"], members=[], companyList=None)
        return True

    async def _failed(self, delivery: dict[str, Any], failure: Failure) -> None:
        attempts = delivery["attempts"] + 1
        rows = await self.graph.run(Q.DELIVERY_FAILED, id=delivery["id"], holder=self.holder, error=str(failure),
                                    final=failure.refused, maxAttempts=self.policy.attempts,
                                    delayMilliseconds=round(self.policy.delay(attempts) * 1000))
        WEBHOOK_ATTEMPTS.labels("dead" if rows and rows[0]["status"] == "DEAD" else "failed").inc()
        if rows and rows[0]["status"] == "DEAD":
            log.warning("webhook delivery %s to %s dead-lettered after %d tries: %s", delivery["id"],
                        delivery["destination"], rows[0]["attempts"], failure)
        else:
            log.info("webhook delivery %s to %s failed (try %d of %d): %s", delivery["id"], delivery["destination"],
                     attempts, self.policy.attempts, failure)


async def redrive(graph: Graph, delivery_id: str) -> dict[str, Any]:
    """Send a dead-lettered delivery again, with the same batches (and batch ids); the delivery after."""
    if not await graph.run(Q.DELIVERY_REDRIVE, id=delivery_id):
        raise DeliveryNotDead(f"no dead-lettered delivery with id {delivery_id!r}")
    return (await deliveries(graph, limit=1, delivery_id=delivery_id))[0]


async def deliveries(graph: Graph, status: str | None = None, destination: str | None = None, limit: int = 100,
                     delivery_id: str | None = None, segment_id: str | None = None) -> list[dict[str, Any]]:
    """The deliveries of the outbox, newest first: one by id, or by status, destination and segment, or all."""
    rows = await graph.run(Q.DELIVERIES_LIST, id=delivery_id, status=status, destination=destination, limit=limit,
                           segmentId=segment_id)
    return [row["delivery"] for row in rows]
