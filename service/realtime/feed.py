"""The change feed: every evaluation that changes a membership takes the next position of a counter
in the graph, in its own transaction (cypher/realtime/feed_read.cypher says why that orders them).
Each process reads the feed from the last position it read and publishes what it finds to its own
subscribers (service.realtime.broker), so a subscriber on any process hears every change of its
segment, once and in order, whichever process evaluated it; and a subscriber that reconnects resumes
from the cursor of the last change it heard (`audienceChanges(after:)`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from service.database import DatabaseUnavailable, Graph
from service.errors import AccountGraphError, ErrorCode
from service.queries import Q
from service.realtime.broker import AudienceChange, Broker, changes_of
from service.segments.rules import Subject

log = logging.getLogger("accountgraph.feed")

PAGE = 200  # evaluations read per query


class CursorError(AccountGraphError, ValueError):
    """A resume cursor that is not one, or that the feed has not reached."""

    default_code = ErrorCode.VALIDATION_FAILED


def parse_cursor(cursor: str) -> tuple[int, int]:
    position, _, index = cursor.partition(":")
    if not (position.isdigit() and index.isdigit()) or len(cursor) > 40:
        raise CursorError(f"after: {cursor[:40]!r} is not a cursor of audienceChanges (POSITION:INDEX, e.g. '42:0')")
    return int(position), int(index)


@dataclass(frozen=True)
class Page:
    head: int  # the last position given
    removed_through: int  # the last position retention removed (0: none)
    changes: list[AudienceChange]  # of the evaluations read, in feed order
    complete: bool  # fewer evaluations than asked for: nothing more after them up to the head


async def read(graph: Graph, after: int, limit: int = PAGE) -> Page:
    """The changes of up to `limit` evaluations after position `after`, with where the feed is."""
    [row] = await graph.run(Q.FEED_READ, after=after, limit=limit)
    evaluations = row["evaluations"]
    changes = [change for e in evaluations
               for change in changes_of(e["segmentId"], e["segmentName"], e["position"], e["at"].to_native(),
                                        e["entered"], e["left"], e["subject"] == Subject.COMPANY)]
    return Page(row["head"], row["removedThrough"], changes, len(evaluations) < limit)


async def replay(graph: Graph, cursor: str, until: int, segment_id: str | None) -> AsyncIterator[AudienceChange]:
    """The changes of the segment (or of all) after `cursor` up to position `until`, from the graph,
    oldest first."""
    start = parse_cursor(cursor)
    where = await read(graph, 0, 0)
    if start[0] > where.head:
        raise CursorError(f"after: position {start[0]} is ahead of the change feed, which is at {where.head}")
    if start[0] < where.removed_through:
        raise CursorError(f"after: the changes up to position {where.removed_through} are no longer kept "
                          "(EVALUATION_RETENTION_DAYS); subscribe without after, or after a later cursor")
    after = max(start[0] - 1, 0)  # from the cursor's own evaluation: its later changes follow it
    while after < until:
        page = await read(graph, after)
        changes, complete = page.changes, page.complete
        for change in changes:
            if change.position > until:
                return
            if parse_cursor(change.cursor) > start and segment_id in (None, change.segment_id):
                yield change
        if complete or not changes:
            return
        after = changes[-1].position


class ChangeFeed:
    """Reads the feed as it grows and publishes it to the process's broker: woken by this process's
    own evaluations, and at least every `poll_seconds` for other processes'."""

    def __init__(self, graph: Graph, broker: Broker, poll_seconds: float = 0.2) -> None:
        self.graph = graph
        self.broker = broker
        self.poll_seconds = poll_seconds
        self.position: int | None = None  # the last position published; None until the first read
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    def wake(self) -> None:
        self._wake.set()

    async def catch_up(self) -> int:
        """Publish every change committed before this call; return the position published up to.
        The first call only learns where the feed is: a process publishes what comes after it started."""
        async with self._lock:
            if self.position is None:
                self.position = (await read(self.graph, 0, 0)).head
                return self.position
            while True:
                page = await read(self.graph, self.position)
                head, changes, complete = page.head, page.changes, page.complete
                if head < self.position:  # the counter went back (the graph was restored or emptied)
                    log.warning("the change feed is at %d, behind the %d read: reading it from its start",
                                head, self.position)
                    self.position = 0
                    continue
                self.broker.publish(changes)
                if changes:
                    self.position = changes[-1].position
                if complete:  # every position up to the head was committed before it was read (feed_read)
                    self.position = max(self.position, head)
                    return self.position

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.catch_up()
            except asyncio.CancelledError:
                raise
            except DatabaseUnavailable:
                pass  # the live loop says so; the feed is read again once Neo4j answers
            except Exception:
                log.exception("reading the change feed failed; retrying")
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass
