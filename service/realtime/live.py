"""The live loop of the service: evaluate marked people as soon as a change arrives (queueing their
webhook deliveries in the outbox, service.realtime.outbox), and sweep time windows for expiries.
Subscribers hear the changes from the change feed in the graph (service.realtime.feed), which this
loop wakes after each round, so a change evaluated by any process reaches the subscribers of every
process.

The database layer wakes the loop after each commit that marked people (Graph.on_people_marked);
writes made by another process (the CLI, a second service) are found by the poll."""

from __future__ import annotations

import asyncio
import logging
import time

from service.database import DatabaseUnavailable, Graph
from service.limits import Retention, RetryPolicy
from service.metrics import LIVE_CHANGES, LIVE_EVALUATED, LIVE_FAILURES, LIVE_ROUND_SECONDS
from service.realtime.broker import AudienceChange, Broker
from service.realtime.evaluator import BATCH, MAX_BATCH, Evaluator
from service.realtime.feed import ChangeFeed
from service.realtime.lease import Lease
from service.realtime.outbox import Outbox
from service.realtime.retention import RetentionJob

log = logging.getLogger("accountgraph.live")

# Rounds begin at most this often. Under a stream of writes each commit wakes the loop; without a gap
# every few events would pay a round's fixed cost (its round trips, the driver's Python) on the one
# core the service has. With it, the people marked meanwhile are claimed together: at most this much
# latency added, for a round cost that no longer grows with the event rate.
ROUND_GAP_SECONDS = 0.05
SWEEP_LEASE_INTERVALS = 2  # the sweep lease lasts this many sweep intervals from its last renewal


class LiveAudiences:
    def __init__(self, graph: Graph, broker: Broker, poll_seconds: float = 1.0, sweep_seconds: float = 60.0,
                 round_gap_seconds: float = ROUND_GAP_SECONDS, feed_poll_seconds: float = 0.2,
                 retention: Retention = Retention(), delivery: RetryPolicy = RetryPolicy()) -> None:
        self.graph = graph
        self.broker = broker
        self.feed = ChangeFeed(graph, broker, feed_poll_seconds)
        # One process of many sweeps: the holder of the lease, which it renews at each sweep; when it
        # dies, another takes the lease over once it has expired (two sweep intervals on).
        self.sweep_lease = Lease(graph, "sweep", SWEEP_LEASE_INTERVALS * sweep_seconds)
        self.retention = RetentionJob(graph, retention)
        self.evaluator = Evaluator(graph)
        self.outbox = Outbox(graph, delivery, poll_seconds)
        self.poll_seconds = poll_seconds
        self.sweep_seconds = sweep_seconds
        self.round_gap_seconds = round_gap_seconds
        self._wake = asyncio.Event()
        self._last_sweep = 0.0
        self._caught_up_at = time.monotonic()  # when a round last left no marked person behind

    def lag_seconds(self) -> float:
        """How long ago this loop last had every marked person evaluated: about the poll interval at
        most while it keeps up; growing while a backlog lasts, Neo4j is out of reach, or rounds fail."""
        return time.monotonic() - self._caught_up_at

    def wake(self) -> None:
        """People were just marked: evaluate now rather than at the next poll."""
        self._wake.set()

    async def step(self) -> list[AudienceChange]:
        """One round: sweep windows when due, then evaluate every marked person."""
        if self.feed.position is None:  # where the feed is before anything is evaluated: all later is heard
            await self.feed.catch_up()
        if time.monotonic() - self._last_sweep >= self.sweep_seconds:
            if await self.sweep_lease.take():
                await self.evaluator.mark_expired()
            self._last_sweep = time.monotonic()
        # Whatever committed its marks before this point is claimed below (the sweep's own included):
        # only a wake from here on calls for another round.
        self._wake.clear()
        changes: list[AudienceChange] = []
        limit = BATCH
        while True:
            began = time.perf_counter()
            claimed, batch = await self.evaluator.evaluate_pending(limit)
            LIVE_ROUND_SECONDS.observe(time.perf_counter() - began)
            LIVE_EVALUATED.inc(claimed)
            for change in batch:
                LIVE_CHANGES.labels(change.change.lower()).inc()
            changes += batch
            self.feed.wake()
            if batch:
                self.outbox.wake()
            if claimed < limit:
                self._caught_up_at = time.monotonic()
                return changes
            # A full batch may leave more marked people behind it: a backlog, so larger rounds (fewer
            # round trips per person) until it is gone.
            limit = min(MAX_BATCH, limit * 2)

    async def run(self) -> None:
        """Evaluate until cancelled, woken by the database layer or the poll; the webhook outbox, the
        reading of the change feed and retention run beside it in tasks of their own, started and
        stopped with it."""
        unregister = self.graph.on_people_marked(self.wake)
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self.outbox.run(), name="webhook outbox")
                group.create_task(self.feed.run(), name="change feed")
                group.create_task(self.retention.run(), name="retention")
                await self._evaluate_forever()
        finally:
            unregister()

    async def _evaluate_forever(self) -> None:
        waiting = False  # for Neo4j: said once per outage, not every round
        while True:
            began = time.monotonic()
            try:
                await self.step()
                if waiting:
                    log.info("live evaluation resumed: Neo4j answers again")
                    waiting = False
            except asyncio.CancelledError:
                raise
            except DatabaseUnavailable as unavailable:
                LIVE_FAILURES.labels("unavailable").inc()
                if not waiting:
                    log.warning("live evaluation waits for Neo4j (%s); marked people stay marked", unavailable)
                    waiting = True
            except Exception:  # the loop must outlive a failed round
                LIVE_FAILURES.labels("error").inc()
                log.exception("live evaluation round failed; retrying")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass
            await asyncio.sleep(max(0.0, began + self.round_gap_seconds - time.monotonic()))
