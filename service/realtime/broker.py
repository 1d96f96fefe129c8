"""In-process publish/subscribe of audience changes, for GraphQL subscriptions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

QUEUE_LIMIT = 10_000


@dataclass(frozen=True)
class AudienceChange:
    """A person entering or leaving a saved segment."""

    # GraphQL serves this class as it is (service.api.subscription): the descriptions are its schema's.
    segment_id: str
    segment_name: str
    email: str
    change: str = field(metadata={"description": "ENTERED or LEFT."})
    at: datetime


class Broker:
    def __init__(self) -> None:
        self._queues: set[tuple[str | None, asyncio.Queue[AudienceChange]]] = set()

    def publish(self, changes: list[AudienceChange]) -> None:
        for segment_id, queue in list(self._queues):
            for change in changes:
                if segment_id in (None, change.segment_id) and queue.qsize() < QUEUE_LIMIT:
                    queue.put_nowait(change)

    async def subscribe(self, segment_id: str | None) -> AsyncIterator[AudienceChange]:
        """Changes of one segment (or of all, with None) from now on, until the subscriber leaves."""
        entry = (segment_id, asyncio.Queue[AudienceChange]())
        self._queues.add(entry)
        try:
            while True:
                yield await entry[1].get()
        finally:
            self._queues.discard(entry)

    @property
    def subscribers(self) -> int:
        return len(self._queues)
