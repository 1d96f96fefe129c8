"""Rows of erased people are skipped, not written: re-importing an old export must not bring them back.

A person is erased with `accountgraph erase` or `erasePerson` (service.erasure), which leaves a
`Suppression` (a hash of the email) and a `SuppressedId` per source id the person had. Before
references are checked, an import drops:

- `people` rows whose email is suppressed;
- rows that name a person (`PersonId`: web visits, account-people, contact roles, campaign and
  list members) when that person is a dropped `people` row of this import, or when the id is a
  suppressed id that no one (in this import or the graph) holds now.

The rows dropped are counted in the import's report; they are not errors.
"""

from __future__ import annotations

from collections.abc import Callable

from service.database import Graph, Transaction
from service.erasure.hashing import email_hash, id_hash
from service.ingest.batch import Batch, Row, Table
from service.queries import Q

PERSON = "personKey"


def _person_tables(batch: Batch) -> list[Table]:
    return [table for table in batch.tables.values() if any(r.target == "people" for r in table.spec.references)]


def _drop(table: Table, erased: Callable[[Row], bool]) -> int:
    """Remove the rows `erased(row)` picks from both lists; return how many went."""
    before = len(table)
    table.upserts = [row for row in table.upserts if not erased(row)]
    table.deletions = [row for row in table.deletions if not erased(row)]
    return before - len(table)


async def skip_suppressed(runner: Graph | Transaction, batch: Batch) -> int:
    """Drop the rows of erased people from the batch; return how many were dropped."""
    [dropped] = await skip_suppressed_of(runner, [batch])
    return dropped


async def skip_suppressed_of(runner: Graph | Transaction, batches: list[Batch]) -> list[int]:
    """skip_suppressed for several imports at once (a group commit's), with one query of each kind for
    them all: each import's drops are decided by its own rows and the graph, as if it were alone."""
    if not any(batch.tables.get("people") is not None or _person_tables(batch) for batch in batches) \
            or not await runner.run(Q.SUPPRESSIONS_EXIST):
        return [0 for _ in batches]
    hashes = [_hashes(batch) for batch in batches]
    [found] = await runner.run(Q.SUPPRESSIONS_BY_HASH, emails=sorted({d for emails, _ in hashes for d in emails}),
                               ids=sorted({d for _, keys in hashes for d in keys}))
    found_emails, found_ids = set(found["emails"]), set(found["ids"])
    dropped: list[int] = []
    skipped: list[tuple[set[str], set[str]]] = []  # per import: ids of its erased people rows, suppressed ids unheld
    for batch, (emails, keys) in zip(batches, hashes, strict=True):
        count, erased_keys = _drop_people(batch, emails, found_emails)
        dropped.append(count)
        skipped.append((erased_keys, _unclaimed(batch, keys, found_ids, erased_keys)))
    # A suppressed id may name someone else now (a source that gave it out again): theirs stays.
    unclaimed = sorted({(batch.source, key) for batch, (_, keys) in zip(batches, skipped, strict=True) for key in keys})
    held: set[tuple[str, str]] = set()
    if unclaimed:
        known = await runner.run(Q.PEOPLE_KNOWN, keys=[{"source": s, "sourceKey": k} for s, k in unclaimed])
        held = {(row["key"]["source"], row["key"]["sourceKey"]) for row in known}
    return [count + _drop_referring(batch, erased | {key for key in keys if (batch.source, key) not in held})
            for batch, count, (erased, keys) in zip(batches, dropped, skipped, strict=True)]


def _hashes(batch: Batch) -> tuple[dict[str, str], dict[str, str]]:
    """The hashes to look up: of the emails of its people rows, of the person ids its other rows name."""
    people = batch.tables.get("people")
    people_rows: list[Row] = [] if people is None else people.upserts + people.deletions
    emails = {email_hash(row["email"]): row["email"] for row in people_rows if row.get("email")}
    keys = {id_hash(batch.source, row[PERSON]): row[PERSON] for table in _person_tables(batch)
            for row in table.upserts + table.deletions if row.get(PERSON)}
    return emails, keys


def _drop_people(batch: Batch, emails: dict[str, str], suppressed: set[str]) -> tuple[int, set[str]]:
    """Drop the people rows whose email is suppressed: how many went, and their ids."""
    people = batch.tables.get("people")
    erased_emails = {email for digest, email in emails.items() if digest in suppressed}
    if people is None or not erased_emails:
        return 0, set()
    erased_keys = {row["sourceKey"] for row in people.upserts + people.deletions if row.get("email") in erased_emails}
    return _drop(people, lambda row: row.get("email") in erased_emails), erased_keys


def _unclaimed(batch: Batch, keys: dict[str, str], suppressed: set[str], erased_keys: set[str]) -> set[str]:
    """The suppressed person ids the batch names that no people row of its own holds."""
    people = batch.tables.get("people")
    held = {row["sourceKey"] for row in people.upserts} if people is not None else set()
    return {key for digest, key in keys.items() if digest in suppressed} - held - erased_keys


def _drop_referring(batch: Batch, skipped: set[str]) -> int:
    if not skipped:
        return 0
    return sum(_drop(table, lambda row: row.get(PERSON) in skipped) for table in _person_tables(batch))
