"""Writes a checked batch with batched UNWIND queries: no round trip per row.

A batch of up to CHUNK_ROWS rows is written in one transaction. A larger one is written in
transactions of CHUNK_ROWS rows of one kind each, kind after kind; every write is an idempotent
MERGE or DELETE by key, so an import interrupted half-way is completed by running it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from service.database import Graph, Transaction
from service.ingest.batch import Batch, Row
from service.ingest.families import rederive_families
from service.ingest.figures import refigure
from service.ingest.specs import MDM_SPECS, SOURCE_SPECS
from service.queries import Q

CHUNK_ROWS = 5000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)
# Steps whose transactions may run side by side (WRITERS at a time), with the row field they are
# sorted by first. While Neo4j runs one transaction the driver encodes the next, so both cores work.
# A web visit's row locks only its own visit and its person; sorted by person, two transactions
# share at most the person at their boundary, so one may wait for the other but never deadlock.
# Other kinds lock shared nodes (accounts, the Source node) in row order: they are written one by one.
CONCURRENT_BY = {Q.WEB_VISITS_UPSERT: "email"}
WRITERS = 2
AccountKey = tuple[str, str]
Progress = Callable[[int], None]


@dataclass(frozen=True)
class Step:
    query: Q
    rows: list[Row]


def plan(batch: Batch) -> list[Step]:
    """Upserts in dependency order (each kind's key moves after its upserts), then deletions in reverse
    (relationships before records)."""
    specs = [spec for spec in (*SOURCE_SPECS, *MDM_SPECS) if spec.name in batch.tables]
    upserts = [Step(query, batch.tables[s.name].upserts)
               for s in specs for query in (s.upsert_query, s.keys_move_query, s.parent_query) if query]
    deletions = [Step(s.delete_query, batch.tables[s.name].deletions) for s in reversed(specs)]
    return [step for step in upserts + deletions if step.rows]


def _chunks(step: Step, size: int) -> list[Step]:
    return [Step(step.query, step.rows[start:start + size]) for start in range(0, len(step.rows), size)]


def _wire(value: Any) -> Any:
    # The driver converts a zoned datetime in Python at ~35 us each (a fifth of a large import):
    # timestamps travel as epoch milliseconds and the queries rebuild them with datetime({epochMillis}).
    # Integer arithmetic, floored: a float timestamp loses microseconds far from 1970 and rounds
    # moments before 1970 up.
    return (value - EPOCH) // MILLISECOND if isinstance(value, datetime) else value


def _strip(rows: list[Row]) -> list[Row]:
    return [{k: _wire(v) for k, v in row.items() if not k.startswith("_")} for row in rows]


def _emails(steps: list[Step]) -> set[str]:
    """The people a write names (see ingest/people_mark_for_evaluation)."""
    return {row["email"] for step in steps for row in step.rows if row.get("email")}


def _keys(found: list[dict[str, str]]) -> set[AccountKey]:
    return {(key["source"], key["sourceKey"]) for key in found}


async def write_batch(graph: Graph, batch: Batch, seen_at: datetime, progress: Progress | None = None) -> None:
    """Write the batch; when segments are saved, mark the people it can move for re-evaluation,
    in the same transaction as the change (so no change is lost to a crash in between)."""
    steps = plan(batch)
    single = sum(len(step.rows) for step in steps) <= CHUNK_ROWS
    mark = bool(await graph.run(Q.SEGMENTS_EXIST))

    async def write(tx: Transaction, steps: list[Step], regroup_now: bool) -> set[AccountKey]:
        return await write_steps(tx, batch.source, steps, seen_at, mark, regroup_now)

    async def write_chunks(chunks: list[Step], writers: int) -> set[AccountKey]:
        regroup: set[AccountKey] = set()
        remaining = iter(chunks)  # shared by the writers: each chunk is taken once

        async def writer() -> None:
            for chunk in remaining:
                regroup.update(await graph.write_work(write, [chunk], False))
                if progress:
                    progress(len(chunk.rows))

        try:
            async with asyncio.TaskGroup() as group:  # one failing transaction cancels the others
                for _ in range(writers):
                    group.create_task(writer())
        except ExceptionGroup as failed:  # the first failure, as a one-writer import would raise it
            raise failed.exceptions[0] from None
        return regroup

    if single:
        await graph.write_work(write, steps, True)
        if progress:
            progress(sum(len(step.rows) for step in steps))
        return
    pending: set[AccountKey] = set()
    for step in steps:  # a step's rows may refer to the records of the steps before: those are committed
        order = CONCURRENT_BY.get(step.query)
        if order:
            step = Step(step.query, sorted(step.rows, key=lambda row: row[order]))
        pending |= await write_chunks(_chunks(step, CHUNK_ROWS), WRITERS if order else 1)
    keys = sorted(pending)
    for start in range(0, len(keys), CHUNK_ROWS):
        await graph.write_work(_regroup, set(keys[start:start + CHUNK_ROWS]), mark)


async def write_steps(tx: Transaction, source: str, steps: list[Step], seen_at: datetime, mark: bool,
                      regroup_now: bool) -> set[AccountKey]:
    """Write the steps of one source in the transaction: the rows, the marks (when `mark`: segments are
    saved), the company figures; the regrouping too when `regroup_now`, else the accounts it needs."""
    regroup: set[AccountKey] = set()
    touched: set[AccountKey] = set()  # the accounts (by identity) whose company's totals may have moved
    roles: set[AccountKey] = set()  # accounts whose company's buying group may have moved (a role changed)
    family: set[AccountKey] = set()  # accounts whose company's place in the corporate hierarchy may have moved
    for step in steps:
        parameters = {"source": source, "seenAt": seen_at, "rows": _strip(step.rows), "mark": mark}
        for row in await tx.run(step.query, **parameters):
            regroup |= _keys(row.get("regroup", []))
            touched |= _keys([row["touched"]] if row.get("touched") else [])
            roles |= _keys([row["companyOf"]] if row.get("companyOf") else [])
            family |= _keys([row["family"]] if row.get("family") else [])
    if family:
        await rederive_families(tx, family)
    if mark:
        await _mark(tx, _emails(steps), touched | roles | family)
    await refigure(tx, _key_maps(touched))  # the figures the rules read (service.ingest.figures)
    if regroup_now and regroup:
        await _regroup(tx, regroup, mark)
    return regroup


def _key_maps(keys: set[AccountKey]) -> list[dict[str, str]]:
    return [{"source": s, "sourceKey": k} for s, k in sorted(keys)]


async def _mark(tx: Transaction, emails: set[str], accounts: set[AccountKey]) -> None:
    if emails or accounts:
        await tx.run(Q.PEOPLE_MARK_FOR_EVALUATION, emails=sorted(emails), accounts=_key_maps(accounts))


async def _regroup(tx: Transaction, keys: set[AccountKey], mark: bool) -> None:
    """Recompute companies from the links; their people (before and after) are marked when asked."""
    if mark:
        await _mark(tx, set(), keys)
    await tx.run(Q.COMPANIES_REGROUP, keys=_key_maps(keys))
    await rederive_families(tx, keys)
    await refigure(tx, _key_maps(keys))
    if mark:
        await _mark(tx, set(), keys)
