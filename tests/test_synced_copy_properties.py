"""Property test of synced copies: any sequence of original and copy writes, deletes, unlinks and relinks,
imported one after the other, leaves the graph a simple model of the import-format rules predicts.

The model (docs/import-format.md, "Synced copies"): a record is known to the sources whose key names
it; it exists while one does; the system of record (CRM 1) decides its values whenever it writes, and
a copy decides them while CRM 1 does not know the record; every deal counts once in the company total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.database import Graph
from service.ingest import figures
from service.ingest.pipeline import ingest_path
from tests.helpers import run_cypher, wipe
from tests.hypothesis_settings import FEW

pytestmark = pytest.mark.asyncio

CRM = "CRM 1"
COPIERS = {"Marketo 1": "M1", "Marketo 2": "M2"}  # each syncs from CRM 1; the prefix makes their ids
DEALS = (1, 2, 3)
STAGES = ("Closed Won", "Prospecting", "Closed Lost")
OPPORTUNITY_HEADER = "Id,AccountId,Name,Amount,StageName,CloseDate,SyncedFromSource,SyncedFromId\n"
Identity = tuple[str, str]


@dataclass
class Record:
    values: tuple[float, str]  # amount, stage
    known_in: set[str] = field(default_factory=set)  # "<source>/<key>"


@dataclass
class Model:
    records: dict[Identity, Record] = field(default_factory=dict)

    def key_holder(self, known: str) -> Identity | None:
        return next((identity for identity, record in self.records.items() if known in record.known_in), None)

    def write(self, source: str, key: str, identity: Identity, values: tuple[float, str]) -> None:
        known = f"{source}/{key}"
        old = self.key_holder(known)
        record = self.records.get(identity)
        if record is None:
            record = self.records[identity] = Record(values)
        elif identity[0] == source or f"{identity[0]}/{identity[1]}" not in record.known_in:
            record.values = values  # the system of record writes, or the original is unknown
        record.known_in.add(known)
        if old is not None and old != identity:
            self.forget(old, known)

    def delete(self, source: str, key: str) -> None:
        known = f"{source}/{key}"
        holder = self.key_holder(known)
        if holder is not None:
            self.forget(holder, known)

    def forget(self, identity: Identity, known: str) -> None:
        self.records[identity].known_in.discard(known)
        if not self.records[identity].known_in:
            del self.records[identity]

    def won_total(self) -> float:
        return sum(record.values[0] for record in self.records.values() if record.values[1] == "Closed Won")


steps = st.one_of(
    st.tuples(st.just("original"), st.just(CRM), st.sampled_from(DEALS), st.integers(1, 9), st.sampled_from(STAGES),
              st.just(True)),
    st.tuples(st.just("copy"), st.sampled_from(sorted(COPIERS)), st.sampled_from(DEALS), st.integers(1, 9),
              st.sampled_from(STAGES), st.booleans()),  # False: the copy no longer names its original
    st.tuples(st.just("delete"), st.sampled_from([CRM, *sorted(COPIERS)]), st.sampled_from(DEALS), st.just(0),
              st.just(""), st.just(True)),
)


def key_of(source: str, deal: int) -> str:
    return f"O{deal}" if source == CRM else f"{COPIERS[source]}-O{deal}"


def account_of(source: str) -> str:
    return "A" if source == CRM else f"{COPIERS[source]}-A"


async def import_file(graph: Graph, folder: Path, source: str, name: str, text: str) -> None:
    folder.mkdir(parents=True)
    (folder / name).write_text(text, encoding="utf-8")
    await ingest_path(graph, folder, source)


@FEW
@given(sequence=st.lists(steps, min_size=1, max_size=8))
async def test_any_sequence_of_synced_writes_matches_the_model(
        graph: Graph, tmp_path_factory: pytest.TempPathFactory,
        sequence: list[tuple[str, str, int, int, str, bool]]) -> None:
    await wipe(graph)
    root = tmp_path_factory.mktemp("synced")
    await import_file(graph, root / "setup-crm", CRM, "accounts.csv", "Id,Name\nA,Acme\n")
    for source, prefix in COPIERS.items():  # the accounts are always synced: every deal is on one company
        await import_file(graph, root / f"setup-{prefix}", source, "accounts.csv",
                          f"Id,Name,SyncedFromSource,SyncedFromId\n{prefix}-A,Acme,{CRM},A\n")
    model = Model()
    for number, (kind, source, deal, amount, stage, linked) in enumerate(sequence):
        key = key_of(source, deal)
        folder = root / f"step-{number}"
        if kind == "delete":
            await import_file(graph, folder, source, "opportunities.csv", f"Id,IsDeleted\n{key},true\n")
            model.delete(source, key)
        else:
            synced = f"{CRM},O{deal}" if kind == "copy" and linked else ","
            await import_file(graph, folder, source, "opportunities.csv",
                              f"{OPPORTUNITY_HEADER}{key},{account_of(source)},Deal,{amount},{stage},2026-05-01,"
                              f"{synced}\n")
            identity = (CRM, f"O{deal}") if kind == "original" or linked else (source, key)
            model.write(source, key, identity, (float(amount), stage))
        stored = await run_cypher(graph, """
            MATCH (o:Opportunity)
            RETURN o.source AS source, o.sourceKey AS key, o.amount AS amount, o.stage AS stage,
                   COLLECT { MATCH (o)-[k:KNOWN_IN]->(s:Source) RETURN s.name + '/' + k.sourceKey } AS knownIn,
                   COUNT { (o)<-[:HAS_OPPORTUNITY]-(:Account) } AS accounts""")
        assert sorted((r["source"], r["key"], r["amount"], r["stage"], sorted(r["knownIn"]), r["accounts"])
                      for r in stored) == sorted(
            (identity[0], identity[1], record.values[0], record.values[1], sorted(record.known_in), 1)
            for identity, record in model.records.items()), f"after step {number}: {sequence[:number + 1]}"
        [total] = await run_cypher(graph, """
            MATCH (:Account {sourceKey: 'A'})-[:PART_OF]->(c:Company)
            MATCH (c)<-[:PART_OF]-(:Account)-[:HAS_OPPORTUNITY]->(o:Opportunity)
            WITH DISTINCT o WHERE o.isWon
            RETURN sum(o.amount) AS won""")
        assert total["won"] == model.won_total()
        assert await figures.verify(graph) == []  # the figures the company holds followed every step
