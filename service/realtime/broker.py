"""In-process publish/subscribe of audience changes, for GraphQL subscriptions. What is published
comes from the change feed in the graph (service.realtime.feed), so every process hears every change."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

QUEUE_LIMIT = 10_000  # changes waiting for one subscriber; past that it is told to resume from its cursor


@dataclass(frozen=True)
class AudienceChange:
    """A person entering or leaving a saved segment, or a company an account audience."""

    # GraphQL serves this class as it is (service.api.subscription): the descriptions are its schema's.
    segment_id: str = field(metadata={"description": "The id of the saved segment or account audience."})
    segment_name: str = field(metadata={"description": "Its name."})
    email: str | None = field(metadata={"description": "The person (none for an account audience)."})
    company_id: str | None = field(metadata={"description": "The company, for an account audience (else none)."})
    change: str = field(metadata={"description": "ENTERED or LEFT."})
    at: datetime = field(metadata={"description": "When the evaluation that made the change ran (ISO 8601 "
                                                 "date-time, UTC)."})
    position: int = field(metadata={"description": "The position in the change feed of the evaluation that made "
                                                   "the change: strictly increasing, the same on every process."})
    cursor: str = field(metadata={"description": "Where this change is in the feed (POSITION:INDEX, the index "
                                                 "within its evaluation: entries by email, then exits): give it "
                                                 "as `after` to resume after it."})


def changes_of(segment_id: str, segment_name: str, position: int, at: datetime, entered: list[str],
               left: list[str], companies: bool = False) -> list[AudienceChange]:
    """The changes of one evaluation, in the feed's order: entries by email (companies: by id), then exits.
    `entered`, `left`: emails, or company ids when `companies`."""
    kinds = [(key, "ENTERED") for key in sorted(entered)] + [(key, "LEFT") for key in sorted(left)]
    return [AudienceChange(segment_id, segment_name, None if companies else key, key if companies else None,
                           change, at, position, f"{position}:{index}")
            for index, (key, change) in enumerate(kinds)]


class FellBehind(Exception):
    """A subscriber did not keep up: more than QUEUE_LIMIT changes waited for it."""


class Subscription:
    """One subscriber's queue: the changes of its segment (or of all) published from when it opened."""

    def __init__(self, broker: Broker, segment_id: str | None) -> None:
        self.segment_id = segment_id
        self._broker = broker
        self._queue: asyncio.Queue[AudienceChange] = asyncio.Queue()
        self.overflowed = False

    def offer(self, change: AudienceChange) -> None:
        if self.overflowed or self.segment_id not in (None, change.segment_id):
            return
        self._queue.put_nowait(change)
        self.overflowed = self._queue.qsize() >= QUEUE_LIMIT  # nothing more is queued from here on

    async def next(self) -> AudienceChange:
        """The next change; FellBehind once every change queued before the overflow was read."""
        if self.overflowed and self._queue.empty():
            raise FellBehind()
        return await self._queue.get()

    def close(self) -> None:
        self._broker.subscriptions.discard(self)


class Broker:
    def __init__(self) -> None:
        self.subscriptions: set[Subscription] = set()

    def publish(self, changes: list[AudienceChange]) -> None:
        for subscription in list(self.subscriptions):
            for change in changes:
                subscription.offer(change)

    def open(self, segment_id: str | None) -> Subscription:
        """A subscription to the changes published from now on (registered before this returns)."""
        subscription = Subscription(self, segment_id)
        self.subscriptions.add(subscription)
        return subscription

    @property
    def subscribers(self) -> int:
        return len(self.subscriptions)
