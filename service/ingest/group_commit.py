"""Group commit: concurrent small writes of web visits share one transaction.

`POST /events` and `recordWebVisits` usually carry one visit each, and a transaction per visit
costs more than the visit: its round trips and its commit. `GroupCommit.ingest` checks a request
alone first (every value and key: `parse_tables`), then queues it; the first request to arrive
opens a window (`GROUP_COMMIT_WINDOW_MS`, default 5 ms) and the requests queued when it closes (up
to `GROUP_COMMIT_MAX_EVENTS` rows) are written in one transaction with the queries an import uses
(one `UNWIND` per kind), after one lookup of erased people and of references for them all. A
request is answered only once that transaction has committed.

What does not change: a request is all or nothing; its errors are its own (an unknown `PersonId`
rejects that request and the others commit); two requests naming the same record are never in
one group, so each group writes what the requests would have written one after the other. If a
group's transaction fails for any reason but the database (a value Neo4j refuses, a bug), each of
its requests is written again in a transaction of its own, so the failure reaches only the request
it comes from. If the database fails it (unreachable, the transaction timed out), every request
of the group gets that error: none is answered OK, and nothing of theirs was written.

Writes of other kinds (people, accounts, deals, MDM links), whose import may regroup companies,
go straight to `ingest_tables` as before, one transaction per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from service.database import DatabaseUnavailable, Graph, QueryTimeout, Transaction
from service.ingest.batch import Batch, Table, check_references_of
from service.ingest.errors import ImportRejected, RowError
from service.ingest.pipeline import IngestReport, count_written, ingest_tables, parse_tables
from service.ingest.readers import RawTable
from service.ingest.specs import WEB_VISITS
from service.ingest.suppressed import skip_suppressed_of
from service.ingest.writer import plan, write_steps
from service.limits import GroupWindow
from service.metrics import IMPORTS_REJECTED
from service.queries import Q

log = logging.getLogger("accountgraph.ingest")
# The kinds of record whose requests are grouped: each row locks only its own record and its person,
# and no write of theirs regroups companies or moves a deal's figures.
GROUPED = frozenset({WEB_VISITS.name})
RecordKey = tuple[str, str, tuple[Any, ...]]  # (source, kind, key values)


@dataclass(eq=False)
class _Request:
    batch: Batch
    started: float
    arrived: float
    answer: asyncio.Future[IngestReport]
    keys: frozenset[RecordKey] = field(init=False)

    def __post_init__(self) -> None:
        self.keys = frozenset((self.batch.source, table.spec.name, tuple(row[k] for k in table.spec.key))
                              for table in self.batch.tables.values() for row in table.upserts + table.deletions)


@dataclass(frozen=True)
class _Outcome:
    suppressed: int
    errors: list[RowError]


class GroupCommit:
    """The coalescer of one service: `ingest` is what `POST /events` and the upsert mutations call;
    `run` is its task (started and cancelled with the service). `transactions` counts the group
    transactions committed and `requests` the requests they answered OK."""

    def __init__(self, graph: Graph, window: GroupWindow = GroupWindow()) -> None:
        self.graph = graph
        self.window = window
        self.transactions = 0
        self.requests = 0
        self._queue: list[_Request] = []
        self._arrived = asyncio.Event()
        self._running = False

    async def ingest(self, source: str, raw_tables: list[RawTable]) -> IngestReport:
        """Write one request's records, grouped with others' when they are web visits (and the task runs);
        answered once they are committed. ImportRejected names this request's errors only."""
        if not self._running or not raw_tables or any(raw.spec.name not in GROUPED for raw in raw_tables):
            return await ingest_tables(self.graph, source, raw_tables)
        started = time.perf_counter()
        try:
            batch = parse_tables(source, raw_tables)  # a request with a bad value or key is refused here, alone
            request = _Request(batch, started, time.monotonic(), asyncio.get_running_loop().create_future())
            self._queue.append(request)
            self._arrived.set()
            return await request.answer
        except ImportRejected:
            IMPORTS_REJECTED.inc()
            raise

    async def run(self) -> None:
        """Take the queued requests a group at a time, until cancelled (then the queued ones fail)."""
        self._running = True
        try:
            while True:
                if not self._queue:
                    self._arrived.clear()
                    await self._arrived.wait()
                    continue
                await self._wait_for_window()
                await self._commit(self._take())
        finally:
            self._running = False
            for request in self._queue:
                _fail(request, DatabaseUnavailable())
            self._queue.clear()

    async def _wait_for_window(self) -> None:
        """Until the window the first queued request opened is over, or a group is full."""
        closes = self._queue[0].arrived + self.window.seconds
        while sum(len(request.keys) for request in self._queue) < self.window.max_rows:
            remaining = closes - time.monotonic()
            if remaining <= 0:
                return
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                return

    def _take(self) -> list[_Request]:
        """The next group, in arrival order: up to max_rows rows (the first request always), leaving for a
        later group any request that names a record one already taken names."""
        group: list[_Request] = []
        later: list[_Request] = []
        keys: set[RecordKey] = set()
        rows = 0
        for request in self._queue:
            if group and (rows + len(request.keys) > self.window.max_rows or not keys.isdisjoint(request.keys)):
                later.append(request)
                continue
            group.append(request)
            keys |= request.keys
            rows += len(request.keys)
        self._queue = later
        return [request for request in group if not request.answer.done()]  # a request cancelled: not written

    async def _commit(self, group: list[_Request]) -> None:
        if not group:
            return
        try:
            outcomes = await self.graph.write_work(_write_group, [request.batch for request in group],
                                                   datetime.now(UTC))
        except asyncio.CancelledError:  # the service is stopping: committed or not, each may be sent again
            for request in group:
                _fail(request, DatabaseUnavailable())
            raise
        except (DatabaseUnavailable, QueryTimeout) as failure:  # the database's: every request of the group
            for request in group:
                _fail(request, failure)
            return
        except Exception as failure:
            if len(group) == 1:
                _fail(group[0], failure)
                return
            log.warning("a group of %d requests failed (%s: %s); writing each in a transaction of its own",
                        len(group), type(failure).__name__, failure)
            for request in group:
                await self._commit([request])
            return
        self.transactions += 1
        for request, outcome in zip(group, outcomes, strict=True):
            if outcome.errors:
                _fail(request, ImportRejected(outcome.errors))
            else:
                self.requests += 1
                count_written(request.batch)
                _answer(request, IngestReport(request.batch.source, request.batch.rows(),
                                              time.perf_counter() - request.started, outcome.suppressed))


async def _write_group(tx: Transaction, batches: list[Batch], seen_at: datetime) -> list[_Outcome]:
    """In one transaction: each request's checks against the graph (erased people, references), then
    the rows of those that passed, merged per source into the import's queries."""
    suppressed = await skip_suppressed_of(tx, batches)
    errors = await check_references_of(tx, batches)
    accepted = [batch for batch, found in zip(batches, errors, strict=True) if not found]
    if accepted:
        mark = bool(await tx.run(Q.SEGMENTS_EXIST))
        for merged in _merged(accepted):
            await write_steps(tx, merged.source, plan(merged), seen_at, mark, regroup_now=True)
    return [_Outcome(dropped, found) for dropped, found in zip(suppressed, errors, strict=True)]


def _merged(batches: Iterable[Batch]) -> list[Batch]:
    """One batch per source holding the rows of all (their keys are distinct: see GroupCommit._take)."""
    merged: dict[str, Batch] = {}
    for batch in batches:
        into = merged.setdefault(batch.source, Batch(batch.source))
        for name, table in batch.tables.items():
            target = into.tables.setdefault(name, Table(table.spec, table.origin))
            target.upserts += table.upserts
            target.deletions += table.deletions
    return list(merged.values())


def _answer(request: _Request, report: IngestReport) -> None:
    if not request.answer.done():
        request.answer.set_result(report)


def _fail(request: _Request, error: BaseException) -> None:
    if not request.answer.done():
        request.answer.set_exception(error)
