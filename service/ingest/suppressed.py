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

from service.database import Graph
from service.erasure.hashing import email_hash, id_hash
from service.ingest.batch import Batch, Row, Table

PERSON = "personKey"


def _person_tables(batch: Batch) -> list[Table]:
    return [table for table in batch.tables.values() if any(r.target == "people" for r in table.spec.references)]


def _drop(table: Table, erased: Callable[[Row], bool]) -> int:
    """Remove the rows `erased(row)` picks from both lists; return how many went."""
    before = len(table)
    table.upserts = [row for row in table.upserts if not erased(row)]
    table.deletions = [row for row in table.deletions if not erased(row)]
    return before - len(table)


async def skip_suppressed(graph: Graph, batch: Batch) -> int:
    """Drop the rows of erased people from the batch; return how many were dropped."""
    people = batch.tables.get("people")
    referring = _person_tables(batch)
    if (people is None and not referring) or not await graph.read("suppressions_exist"):
        return 0
    people_rows: list[Row] = [] if people is None else people.upserts + people.deletions
    emails = {email_hash(row["email"]): row["email"] for row in people_rows if row.get("email")}
    keys = {id_hash(batch.source, row[PERSON]): row[PERSON] for table in referring
            for row in table.upserts + table.deletions if row.get(PERSON)}
    [found] = await graph.read("suppressed_hashes", emails=sorted(emails), ids=sorted(keys))
    erased_emails = {emails[digest] for digest in found["emails"]}
    dropped = 0
    erased_keys: set[str] = set()
    if people is not None and erased_emails:
        erased_keys = {row["sourceKey"] for row in people_rows if row.get("email") in erased_emails}
        dropped += _drop(people, lambda row: row.get("email") in erased_emails)
    # A suppressed id may name someone else now (a source that gave it out again): theirs stays.
    held = {row["sourceKey"] for row in people.upserts} if people is not None else set()
    unclaimed = {keys[digest] for digest in found["ids"]} - held - erased_keys
    if unclaimed:
        known = await graph.read("known_people",
                                 keys=[{"source": batch.source, "sourceKey": k} for k in sorted(unclaimed)])
        unclaimed -= {row["key"]["sourceKey"] for row in known}
    skipped = erased_keys | unclaimed
    if skipped:
        for table in referring:
            dropped += _drop(table, lambda row: row.get(PERSON) in skipped)
    return dropped
