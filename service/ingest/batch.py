"""Parsing and checking one import: every value, every key, every reference, before anything is written."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from service.database import Graph, Transaction
from service.ingest import fields
from service.ingest.errors import RowError
from service.ingest.readers import RawTable
from service.ingest.specs import PEOPLE, RecordSpec, Reference
from service.queries import Q

Row = dict[str, Any]
KNOWN_QUERIES = {
    "people": Q.PEOPLE_KNOWN, "accounts": Q.ACCOUNTS_KNOWN, "opportunities": Q.OPPORTUNITIES_KNOWN,
    "campaigns": Q.CAMPAIGNS_KNOWN, "lists": Q.LISTS_KNOWN,
}


@dataclass
class Table:
    spec: RecordSpec
    origin: str
    upserts: list[Row] = field(default_factory=list)
    deletions: list[Row] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.upserts) + len(self.deletions)


@dataclass
class Batch:
    """A checked import from one source (or from MDM), ready to write."""

    source: str
    tables: dict[str, Table] = field(default_factory=dict)

    def rows(self) -> int:
        return sum(len(table) for table in self.tables.values())

    def upserts(self, name: str) -> list[Row]:
        return self.tables[name].upserts if name in self.tables else []


def parse_table(raw: RawTable, errors: list[RowError], latest: datetime) -> Table:
    """The rows of one table, parsed and checked; `latest` is the last moment a visit may have (now,
    plus the clock skew allowed)."""
    table = Table(raw.spec, raw.origin)
    first_line: dict[tuple[Any, ...], int] = {}
    for line, values in raw.records:
        row = _parse_record(raw.spec, raw.origin, line, values, errors, latest)
        if row is None:
            continue
        identity = tuple(row[name] for name in raw.spec.key)
        if identity in first_line:
            errors.append(RowError(raw.origin, line, raw.spec.header_of(raw.spec.key[0]), id=raw.spec.row_id(row),
                                   reason=f"duplicate key {', '.join(map(str, identity))}: "
                                          f"first on line {first_line[identity]}"))
            continue
        first_line[identity] = line
        (table.deletions if row["isDeleted"] else table.upserts).append(row)
    if raw.spec is PEOPLE:
        _check_one_id_per_email(table, errors)
    return table


def _parse_record(spec: RecordSpec, origin: str, line: int, values: dict[str, Any],
                  errors: list[RowError], latest: datetime) -> Row | None:
    def reject(column: str, reason: str) -> None:  # the id is read only for a row in error: it costs a parse
        errors.append(RowError(origin, line, column, reason, id=spec.record_id(values)))

    row: Row = {"_line": line}
    deleted_value = values.get("IsDeleted")
    try:
        row["isDeleted"] = False if fields.is_blank(deleted_value) else fields.boolean(deleted_value)
    except ValueError as error:
        reject("IsDeleted", str(error))
        return None
    valid = True
    for column in spec.columns:
        if column.field == "isDeleted":
            continue
        raw = values.get(column.header)
        if fields.is_blank(raw):
            if column.required and (column.identity or not row["isDeleted"]):
                reject(column.header, "a value is required")
                valid = False
            row[column.field] = None
            continue
        try:
            row[column.field] = column.parse(raw)
        except ValueError as error:
            reject(column.header, str(error))
            valid = False
            continue
        if column.not_after_now and row[column.field] > latest:
            reject(column.header, _in_future(row[column.field], latest))
            valid = False
    if valid and spec.name == "opportunities" and not row["isDeleted"]:
        row["isWon"] = row["stage"] == fields.WON_STAGE
        row["isClosed"] = row["stage"] in fields.CLOSED_STAGES
    if valid and "syncedFromKey" in row and (row["syncedFromSource"] is None) != (row["syncedFromKey"] is None):
        given, missing = ("SyncedFromId", "SyncedFromSource") if row["syncedFromSource"] is None \
            else ("SyncedFromSource", "SyncedFromId")
        reject(missing, f"a synced copy names both the source and the Id of its original: {given} is given")
        valid = False
    if valid and spec.name == "accounts" and not row["isDeleted"] and row["parentKey"] == row["sourceKey"]:
        reject("ParentId", "an account cannot be its own parent")
        valid = False
    if valid and spec.name == "parents" and not row["isDeleted"]:
        if (row["sourceChild"], row["keyChild"]) == (row["sourceParent"], row["keyParent"]):
            reject("AccountIdParent", "an account cannot be its own parent")
            valid = False
    if valid and spec.name == "same-company" and not row["isDeleted"]:
        if (row["sourceA"], row["keyA"]) == (row["sourceB"], row["keyB"]):
            reject("AccountIdB", "an account cannot be linked to itself")
            valid = False
    return row if valid else None


def _in_future(moment: datetime, latest: datetime) -> str:
    return (f"{moment.isoformat()} is in the future: it is later than {latest.isoformat(timespec='seconds')} "
            "(now plus the clock skew allowed, CLOCK_SKEW_SECONDS)")


def _check_one_id_per_email(people: Table, errors: list[RowError]) -> None:
    seen: dict[str, str] = {}
    for row in people.upserts:
        other = seen.setdefault(row["email"], row["sourceKey"])
        if other != row["sourceKey"]:
            errors.append(RowError(people.origin, row["_line"], "Email", id=people.spec.row_id(row),
                                   reason=f"{row['email']} is already person Id {other!r} in this file"))


def check_sync_sources(batch: Batch, errors: list[RowError]) -> None:
    """A synced copy names another source's record: naming its own source would make it its own copy."""
    for table in batch.tables.values():
        for row in table.upserts:
            if row.get("syncedFromSource") == batch.source:
                errors.append(RowError(table.origin, row["_line"], "SyncedFromSource", id=table.spec.row_id(row),
                                       reason=f"{batch.source!r} is the import's own source: a synced copy names "
                                              "the source it was copied from"))


async def check_references(runner: Graph | Transaction, batch: Batch, errors: list[RowError]) -> None:
    """Every referenced record must be in this import or already in the graph.

    Person references are resolved to the person's email, which the writes need.
    """
    [found] = await check_references_of(runner, [batch])
    errors.extend(found)


async def check_references_of(runner: Graph | Transaction, batches: list[Batch]) -> list[list[RowError]]:
    """check_references for several imports at once (a group commit's), one query per kind of record
    referenced for them all; the errors of each import, each checked against its own rows and the graph only."""
    in_batches = [_records_in(batch) for batch in batches]
    wanted: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for batch, in_batch in zip(batches, in_batches, strict=True):
        for _table, reference, row in _referencing_rows(batch):
            key = (row[reference.source_field] if reference.source_field else batch.source, row[reference.field])
            if key not in in_batch[reference.target]:
                wanted[reference.target].add(key)
    found: dict[str, dict[tuple[str, str], Any]] = {}
    for target, keys in wanted.items():
        rows = await runner.run(KNOWN_QUERIES[target], keys=[{"source": s, "sourceKey": k} for s, k in sorted(keys)])
        found[target] = {(r["key"]["source"], r["key"]["sourceKey"]): r.get("email", True) for r in rows}
    return [_resolve(batch, in_batch, found) for batch, in_batch in zip(batches, in_batches, strict=True)]


def _records_in(batch: Batch) -> dict[str, dict[tuple[str, str], Any]]:
    """The records the import upserts, by kind and (source, key): what its own rows may refer to."""
    in_batch: dict[str, dict[tuple[str, str], Any]] = defaultdict(dict)
    for name in KNOWN_QUERIES:
        for row in batch.upserts(name):
            in_batch[name][(batch.source, row["sourceKey"])] = row.get("email", True)
    return in_batch


def _resolve(batch: Batch, in_batch: dict[str, dict[tuple[str, str], Any]],
             found: dict[str, dict[tuple[str, str], Any]]) -> list[RowError]:
    errors: list[RowError] = []
    for table, reference, row in _referencing_rows(batch):
        source = row[reference.source_field] if reference.source_field else batch.source
        key = (source, row[reference.field])
        value = in_batch[reference.target].get(key) or found.get(reference.target, {}).get(key)
        if value is None:
            where = "" if reference.source_field is None else f" of source {source!r}"
            errors.append(RowError(table.origin, row["_line"], reference.header, id=table.spec.row_id(row),
                                   reason=f"no {reference.target} record with Id {key[1]!r}{where} "
                                   "in this import or the graph"))
        elif reference.target == "people":
            row["email"] = value
    return errors


def _referencing_rows(batch: Batch) -> Iterator[tuple[Table, Reference, Row]]:
    """Each (table, reference, row) to check: a deletion only through the columns that identify it."""
    for table in batch.tables.values():
        identity = {column.field for column in table.spec.columns if column.identity}
        for reference in table.spec.references:  # an optional reference left empty (ParentId) names nothing
            yield from ((table, reference, row) for row in table.upserts if row[reference.field] is not None)
            if reference.field in identity:
                yield from ((table, reference, row) for row in table.deletions)
