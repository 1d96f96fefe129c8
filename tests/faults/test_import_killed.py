"""Neo4j killed (SIGKILL, no shutdown) in the middle of a large import: once it is restarted,
running the same import again completes it, with every record of the files exactly once."""

from __future__ import annotations

import asyncio
import csv
import time
import tomllib
from collections import defaultdict
from pathlib import Path

import pytest

from benchmarks.generate import MANIFEST, generate
from service.database import DatabaseUnavailable, DriverTimeouts, Graph
from service.ingest.pipeline import ingest_path
from service.ingest.writer import CHUNK_ROWS
from service.neo4j_server import LocalNeo4j
from tests.faults.helpers import connection_of, kill
from tests.helpers import Companies, run_cypher

pytestmark = pytest.mark.faults

PEOPLE = 10_000
COUNTS = """
RETURN COUNT { (:Person) } AS people, COUNT { (:Person)-[:KNOWN_IN]->() } AS knownIn,
       COUNT { (:Account|Opportunity)-[:KNOWN_IN]->() } AS recordKeys,
       COUNT { (:Account) } AS accounts, COUNT { (:Company) } AS companies, COUNT { ()-[:PART_OF]->() } AS partOf,
       COUNT { ()-[:SAME_COMPANY]->() } AS sameCompany,
       COUNT { (:Opportunity) } AS opportunities, COUNT { ()-[:HAS_OPPORTUNITY]->() } AS hasOpportunity,
       COUNT { (:WebVisit) } AS visits, COUNT { ()-[:VISITED]->() } AS visited,
       COUNT { ()-[:ASSOCIATED_WITH]->() } AS associatedWith, COUNT { ()-[:CONTACT_FOR]->() } AS contactFor,
       COUNT { (:Campaign) } AS campaigns, COUNT { ()-[:MEMBER_OF]->() } AS memberOf,
       COUNT { (:MarketingList) } AS lists, COUNT { ()-[:ON_LIST]->() } AS onList
"""


def rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return [{k: v.strip() for k, v in row.items()} for row in csv.DictReader(handle)]


def identity(source: str, row: dict[str, str]) -> tuple[str, str]:
    """The record a row is: the original's (source, Id) for a synced copy, its own otherwise."""
    return (row.get("SyncedFromSource") or source, row.get("SyncedFromId") or row["Id"])


def expected_counts(root: Path) -> dict[str, int]:
    """What the graph must hold, from the files alone: each record once, by its key."""
    manifest = tomllib.loads((root / MANIFEST).read_text())
    keys: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    companies = Companies()
    record_of: dict[tuple[str, str], tuple[str, str]] = {}  # (source, its Id) -> the record's identity
    for source in manifest["sources"]:
        name, folder = source["name"], root / source["folder"]
        email_of = {}
        for row in rows(folder / "people.csv"):
            email_of[row["Id"]] = row["Email"].lower()
            keys["people"].add((row["Email"].lower(),))
            keys["knownIn"].add((name, row["Email"].lower()))  # one KNOWN_IN per person and source
        for kind in ("accounts", "opportunities"):
            for row in rows(folder / f"{kind}.csv"):
                record_of[(name, row["Id"])] = record = identity(name, row)
                record_of.setdefault(record, record)  # MDM may name a record by its identity
                keys[kind].add(record)
                keys["recordKeys"].add((name, row["Id"]))  # one KNOWN_IN per source key
                if kind == "accounts":
                    companies.add(record)
        for row in rows(folder / "web-visits.csv"):
            keys["visits"].add((name, row["Id"]))
        for row in rows(folder / "account-people.csv"):
            keys["associatedWith"].add((*record_of[(name, row["AccountId"])], email_of[row["PersonId"]]))
        for row in rows(folder / "opportunity-contact-roles.csv"):
            keys["contactFor"].add((*record_of[(name, row["OpportunityId"])], email_of[row["PersonId"]]))
        for row in rows(folder / "campaigns.csv"):
            keys["campaigns"].add((name, row["Id"]))
        for row in rows(folder / "campaign-members.csv"):
            keys["memberOf"].add((name, row["CampaignId"], email_of[row["PersonId"]]))
        for row in rows(folder / "lists.csv"):
            keys["lists"].add((name, row["Id"]))
        for row in rows(folder / "list-members.csv"):
            keys["onList"].add((name, row["ListId"], email_of[row["PersonId"]]))
    for row in rows(root / manifest["mdm"]["folder"] / "same-company.csv"):
        a, b = record_of[(row["SourceA"], row["AccountIdA"])], record_of[(row["SourceB"], row["AccountIdB"])]
        if a != b:  # a link between a copy and its own original is not stored
            keys["sameCompany"].add((row["LinkId"],))
        companies.union(a, b)
    counts = {kind: len(found) for kind, found in keys.items()}
    counts |= {"companies": len(companies.roots()), "partOf": counts["accounts"],
               "hasOpportunity": counts["opportunities"], "visited": counts["visits"]}
    return counts


async def import_all(graph: Graph, root: Path) -> None:
    """Every source folder, then MDM, as `accountgraph ingest` would, one after the other."""
    manifest = tomllib.loads((root / MANIFEST).read_text())
    for source in manifest["sources"]:
        await ingest_path(graph, root / source["folder"], source["name"])
    await ingest_path(graph, root / manifest["mdm"]["folder"], mdm=True)


@pytest.mark.asyncio
async def test_an_import_cut_by_killing_neo4j_is_completed_by_running_it_again(
        fault_graph: Graph, fault_neo4j: LocalNeo4j, tmp_path: Path) -> None:
    root = tmp_path / "export"
    summary = await asyncio.to_thread(generate, root, PEOPLE, 11)
    expected = expected_counts(root)
    assert expected["people"] == PEOPLE and expected["visits"] == summary.rows_of("web-visits")
    assert expected["visits"] > 4 * CHUNK_ROWS, "visits are written in several transactions"

    # The import runs; once its first transactions of visits are committed, the JVM is killed.
    importer = Graph(connection_of(fault_neo4j), driver=DriverTimeouts(retry_seconds=1))
    running = asyncio.create_task(import_all(importer, root))
    deadline = time.monotonic() + 300
    while (await run_cypher(fault_graph, "RETURN COUNT { (:WebVisit) } AS n"))[0]["n"] < CHUNK_ROWS:
        assert not running.done(), running.exception() or "the import ended before Neo4j was killed"
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    await asyncio.to_thread(kill, fault_neo4j)
    with pytest.raises(DatabaseUnavailable):
        await asyncio.wait_for(running, timeout=60)
    await importer.close()

    await asyncio.to_thread(fault_neo4j.start)
    [cut] = await run_cypher(fault_graph, COUNTS)
    assert CHUNK_ROWS <= cut["visits"] < expected["visits"], "killed half-way through the visits"
    assert cut["sameCompany"] == 0, "MDM links come last: none was written"

    # The same import again, against the restarted server: complete, nothing twice.
    importer = Graph(connection_of(fault_neo4j))
    try:
        await import_all(importer, root)
    finally:
        await importer.close()
    [after] = await run_cypher(fault_graph, COUNTS)
    assert after == expected
