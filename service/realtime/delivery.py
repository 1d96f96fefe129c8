"""Live webhook delivery, apart from evaluation: the live loop hands over which people of which
segment changed, and this worker sends them, one segment at a time, in its own task. A slow or
failing receiver (up to RetryPolicy.attempts tries of RetryPolicy.timeout seconds each, plus
back-off) delays only the deliveries behind it, never an evaluation or a subscriber."""

from __future__ import annotations

import asyncio
import logging

from service.activation.activate import forward_changes
from service.activation.webhook import DeliveryFailed
from service.database import DatabaseUnavailable, Graph
from service.realtime.broker import AudienceChange

log = logging.getLogger("accountgraph.live")


class WebhookDelivery:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        # Segment id -> the people whose changes are still to send. Changes arriving while a delivery
        # runs are merged per segment: forward_changes sends what changed since the last send anyway.
        self._pending: dict[str, set[str]] = {}
        self._ready = asyncio.Event()

    def hand_over(self, changes: list[AudienceChange]) -> None:
        """Queue the changes for delivery; returns at once."""
        for change in changes:
            self._pending.setdefault(change.segment_id, set()).add(change.email)
        if changes:
            self._ready.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._pending:
                segment_id = next(iter(self._pending))  # the segment waiting longest
                emails = sorted(self._pending.pop(segment_id))
                await self._deliver(segment_id, emails)

    async def _deliver(self, segment_id: str, emails: list[str]) -> None:
        try:
            await forward_changes(self.graph, segment_id, emails)
        except DeliveryFailed as error:
            # Nothing is recorded as sent: the next activation or change sends it again.
            log.warning("webhook delivery for segment %s failed: %s", segment_id, error)
        except DatabaseUnavailable as unavailable:
            log.warning("webhook delivery for segment %s waits for Neo4j (%s); the next change sends it",
                        segment_id, unavailable)
        except Exception:  # the worker must outlive a failed delivery
            log.exception("webhook delivery for segment %s failed", segment_id)
