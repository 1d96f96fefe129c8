"""The live loop of the service: evaluate marked people as soon as a change arrives, publish the
changes to subscribers and webhooks, and sweep time windows for expiries."""

from __future__ import annotations

import asyncio
import logging
import time

from service.activation.activate import forward_changes
from service.activation.webhook import DeliveryFailed
from service.database import DatabaseUnavailable, Graph
from service.realtime.broker import AudienceChange, Broker
from service.realtime.evaluator import BATCH, Evaluator

log = logging.getLogger("accountgraph.live")


class LiveAudiences:
    def __init__(self, graph: Graph, broker: Broker, poll_seconds: float = 1.0, sweep_seconds: float = 60.0) -> None:
        self.graph = graph
        self.broker = broker
        self.evaluator = Evaluator(graph)
        self.poll_seconds = poll_seconds
        self.sweep_seconds = sweep_seconds
        self._wake = asyncio.Event()
        self._last_sweep = 0.0

    def wake(self) -> None:
        """A write just marked people: evaluate now rather than at the next poll."""
        self._wake.set()

    async def step(self) -> list[AudienceChange]:
        """One round: sweep windows when due, then evaluate every marked person."""
        if time.monotonic() - self._last_sweep >= self.sweep_seconds:
            await self.evaluator.mark_expired()
            self._last_sweep = time.monotonic()
        changes: list[AudienceChange] = []
        claimed = BATCH
        while claimed == BATCH:  # a full batch may leave more marked people behind it
            claimed, batch = await self.evaluator.evaluate_pending(BATCH)
            changes += batch
            self.broker.publish(batch)
        if changes:
            await self._forward(changes)
        return changes

    async def _forward(self, changes: list[AudienceChange]) -> None:
        segments = sorted({change.segment_id for change in changes})
        for segment_id in segments:
            emails = sorted({c.email for c in changes if c.segment_id == segment_id})
            try:
                await forward_changes(self.graph, segment_id, emails)
            except DeliveryFailed as error:
                # Nothing is recorded as sent: the next activation or change sends it again.
                log.warning("webhook delivery for segment %s failed: %s", segment_id, error)

    async def run(self) -> None:
        waiting = False  # for Neo4j: said once per outage, not every round
        while True:
            try:
                await self.step()
                if waiting:
                    log.info("live evaluation resumed: Neo4j answers again")
                    waiting = False
            except asyncio.CancelledError:
                raise
            except DatabaseUnavailable as unavailable:
                if not waiting:
                    log.warning("live evaluation waits for Neo4j (%s); marked people stay marked", unavailable)
                    waiting = True
            except Exception:  # the loop must outlive a failed round
                log.exception("live evaluation round failed; retrying")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()
