"""Synced copies (CRM -> Marketo): a copy and its original are one record, counted once, in any import order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service.database import Graph
from service.ingest.errors import ImportRejected
from service.ingest.pipeline import ingest_path
from service.seed import seed
from tests.helpers import SEED_DIR, graphql_data, run_cypher, wipe

pytestmark = pytest.mark.asyncio

SOURCES = {"crm-1": "CRM 1", "marketo-1": "Marketo 1", "crm-2": "CRM 2", "marketo-2": "Marketo 2"}
ACCOUNTS = "Id,Name,Industry\n"
COPIED_ACCOUNTS = "Id,Name,Industry,SyncedFromSource,SyncedFromId\n"
OPPORTUNITIES = "Id,AccountId,Name,Amount,StageName,CloseDate\n"
COPIED_OPPORTUNITIES = "Id,AccountId,Name,Amount,StageName,CloseDate,SyncedFromSource,SyncedFromId\n"
DEAL = "O1,A,Deal,100,Closed Won,2026-05-01\n"


def export(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


async def import_seed_folders(graph: Graph, order: list[str]) -> None:
    for folder in order:
        if folder == "mdm":
            await ingest_path(graph, SEED_DIR / "mdm", mdm=True)
        else:
            await ingest_path(graph, SEED_DIR / folder, SOURCES[folder])


async def graph_state(graph: Graph) -> tuple[list[Any], list[Any]]:
    """Every node and relationship, without the import times (which differ from run to run)."""
    def clean(properties: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((k, repr(v)) for k, v in properties.items() if not k.endswith("SeenAt")))

    nodes = await run_cypher(graph, "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props")
    rels = await run_cypher(graph, "MATCH (a)-[r]->(b) RETURN type(r) AS type, properties(r) AS props, "
                                   "properties(a) AS a, properties(b) AS b")
    return (sorted((tuple(sorted(n["labels"])), clean(n["props"])) for n in nodes),
            sorted((r["type"], clean(r["props"]), clean(r["a"]), clean(r["b"])) for r in rels))


async def opportunities(graph: Graph) -> list[dict[str, Any]]:
    return await run_cypher(graph, """
        MATCH (a:Account)-[:HAS_OPPORTUNITY]->(o:Opportunity)
        RETURN o.source AS source, o.sourceKey AS key, o.amount AS amount, o.stage AS stage,
               a.sourceKey AS account,
               COLLECT { MATCH (o)-[k:KNOWN_IN]->(s:Source)
                         RETURN s.name + '/' + k.sourceKey ORDER BY s.name, k.sourceKey } AS knownIn
        ORDER BY key""")


async def company_won_total(graph: Graph, account_key: str) -> float:
    rows = await run_cypher(graph, """
        MATCH (:Account {sourceKey: $key})-[:PART_OF]->(c:Company)
        MATCH (c)<-[:PART_OF]-(:Account)-[:HAS_OPPORTUNITY]->(o)
        WITH DISTINCT o WHERE o.isWon
        RETURN sum(o.amount) AS total""", key=account_key)
    return float(rows[0]["total"])


async def test_the_full_townsend_topology_gives_p2_and_1_100_000(graph: Graph) -> None:
    await seed(graph, SEED_DIR)
    found = await graphql_data(graph, """{ audience(minCompanyWonAmount: 1000000,
        visitedPage: "https://www.bodea.com/products/new-product", withinDays: 30) {
        count people { email companyWonTotal } }
        person(email: "p2@townsend.com") { accounts { company { wonTotal openPipeline opportunityCount } } } }""")
    assert found["audience"]["count"] == 1
    assert found["audience"]["people"] == [{"email": "p2@townsend.com", "companyWonTotal": 1_100_000.0}]
    # The open renewal is 300,000 in CRM 2 and 250,000 in Marketo 2's stale copy: the system of record wins.
    assert {"wonTotal": 1_100_000.0, "openPipeline": 300_000.0, "opportunityCount": 3} in [
        account["company"] for account in found["person"]["accounts"]]
    deals = await opportunities(graph)
    assert [(d["source"], d["key"], d["amount"], d["knownIn"]) for d in deals] == [
        ("CRM 1", "0061A00001", 200_000.0, ["CRM 1/0061A00001", "Marketo 1/mk1-opp-0001"]),
        ("CRM 1", "0061A00009", 500_000.0, ["CRM 1/0061A00009"]),  # Townsend Holdings', Townsend's parent
        ("CRM 2", "0062B00011", 900_000.0, ["CRM 2/0062B00011", "Marketo 2/mk2-opp-0001"]),
        ("CRM 2", "0062B00012", 300_000.0, ["CRM 2/0062B00012", "Marketo 2/mk2-opp-0002"])]
    assert [d["stage"] for d in deals][3] == "Proposal/Price Quote"
    accounts = await run_cypher(graph, """
        MATCH (a:Account)
        RETURN a.source + '/' + a.sourceKey AS id,
               COLLECT { MATCH (a)-[k:KNOWN_IN]->(s:Source)
                         RETURN s.name + '/' + k.sourceKey ORDER BY s.name, k.sourceKey } AS knownIn
        ORDER BY id""")
    assert accounts == [{"id": "CRM 1/0011A00001", "knownIn": ["CRM 1/0011A00001", "Marketo 1/3001"]},
                        {"id": "CRM 1/0011A00009", "knownIn": ["CRM 1/0011A00009", "Marketo 1/3009"]},
                        {"id": "CRM 2/0012B00007", "knownIn": ["CRM 2/0012B00007", "Marketo 2/7001"]}]


@pytest.mark.parametrize("order", [
    ["marketo-2", "crm-2", "marketo-1", "crm-1", "mdm"],
    ["marketo-1", "marketo-2", "mdm", "crm-2", "crm-1"],  # MDM names originals known only through copies
])
async def test_any_import_order_gives_the_same_graph(graph: Graph, order: list[str]) -> None:
    await import_seed_folders(graph, ["crm-1", "marketo-1", "crm-2", "marketo-2", "mdm"])
    expected = await graph_state(graph)
    await wipe(graph)
    await import_seed_folders(graph, order)
    assert await graph_state(graph) == expected
    assert await company_won_total(graph, "0011A00001") == 1_100_000.0


async def test_a_copy_before_its_original_and_a_copy_whose_original_never_arrives(graph: Graph, tmp_path: Path) -> None:
    await ingest_path(graph, export(tmp_path / "mk", {
        "accounts.csv": COPIED_ACCOUNTS + "M-A,Acme (Marketo),Retail,CRM 1,A\n",
        "opportunities.csv": COPIED_OPPORTUNITIES + "M-O1,M-A,Big deal,900000,Closed Won,2026-05-01,CRM 1,O1\n"
                                                    "M-O2,M-A,Side deal,5000,Closed Won,2026-05-02,CRM 1,O2\n"}),
        "Marketo 1")
    # Known only through the copy: one record, under its original's identity, with the copy's values.
    assert [(d["key"], d["amount"], d["knownIn"]) for d in await opportunities(graph)] == [
        ("O1", 900_000.0, ["Marketo 1/M-O1"]), ("O2", 5_000.0, ["Marketo 1/M-O2"])]
    assert await company_won_total(graph, "A") == 905_000.0
    await ingest_path(graph, export(tmp_path / "crm", {
        "accounts.csv": ACCOUNTS + "A,Acme,\n",
        "opportunities.csv": OPPORTUNITIES + "O1,A,Big deal,850000,Closed Won,2026-05-01\n"}), "CRM 1")
    deals = await opportunities(graph)
    # The original arrives: still one record; its amount wins; O2's original never arrives and it still counts once.
    assert [(d["key"], d["amount"], d["knownIn"]) for d in deals] == [
        ("O1", 850_000.0, ["CRM 1/O1", "Marketo 1/M-O1"]), ("O2", 5_000.0, ["Marketo 1/M-O2"])]
    assert await company_won_total(graph, "A") == 855_000.0
    account = (await run_cypher(graph, "MATCH (a:Account) RETURN a {.source, .sourceKey, .name, .industry} AS a"))
    # The CRM's name wins; the industry it leaves empty is the copy's.
    assert account == [{"a": {"source": "CRM 1", "sourceKey": "A", "name": "Acme", "industry": "Retail"}}]
    assert [r["n"] for r in await run_cypher(graph, "MATCH (c:Company) RETURN count(c) AS n")] == [1]


async def test_a_conflicting_amount_is_resolved_by_the_system_of_record(graph: Graph, tmp_path: Path) -> None:
    crm = export(tmp_path / "crm", {"accounts.csv": ACCOUNTS + "A,Acme,\n",
                                    "opportunities.csv": OPPORTUNITIES + "O1,A,Deal,100,Closed Won,2026-05-01\n"})
    marketo = export(tmp_path / "mk", {
        "accounts.csv": COPIED_ACCOUNTS + "M-A,Acme,,CRM 1,A\n",
        "opportunities.csv": COPIED_OPPORTUNITIES + "M-O1,M-A,Deal,999,Prospecting,2026-09-09,CRM 1,O1\n"})
    await ingest_path(graph, crm, "CRM 1")
    await ingest_path(graph, marketo, "Marketo 1")  # a later sync of a stale copy changes nothing
    [deal] = await run_cypher(graph, "MATCH (o:Opportunity) RETURN o {.amount, .stage, .isWon, .closeDate} AS o")
    assert deal["o"]["amount"] == 100.0 and deal["o"]["stage"] == "Closed Won" and deal["o"]["isWon"] is True
    assert str(deal["o"]["closeDate"]) == "2026-05-01"


async def original_and_copy(graph: Graph, tmp_path: Path) -> None:
    """CRM 1's account A with its won deal O1 (100), and Marketo 1's synced copies of both."""
    await ingest_path(graph, export(tmp_path / "crm", {
        "accounts.csv": ACCOUNTS + "A,Acme,\n", "opportunities.csv": OPPORTUNITIES + DEAL}), "CRM 1")
    await ingest_path(graph, export(tmp_path / "mk", {
        "accounts.csv": COPIED_ACCOUNTS + "M-A,Acme,,CRM 1,A\n",
        "opportunities.csv": COPIED_OPPORTUNITIES + "M-O1,M-A,Deal,100,Closed Won,2026-05-01,CRM 1,O1\n"}),
        "Marketo 1")


async def test_deleting_the_copy_keeps_the_record_and_deleting_both_removes_it(graph: Graph, tmp_path: Path) -> None:
    await original_and_copy(graph, tmp_path)
    await ingest_path(graph, export(tmp_path / "mk-del", {
        "opportunities.csv": "Id,IsDeleted\nM-O1,true\n", "accounts.csv": "Id,IsDeleted\nM-A,true\n"}), "Marketo 1")
    assert [(d["key"], d["knownIn"]) for d in await opportunities(graph)] == [("O1", ["CRM 1/O1"])]
    assert await company_won_total(graph, "A") == 100.0
    await ingest_path(graph, export(tmp_path / "crm-del", {"opportunities.csv": "Id,IsDeleted\nO1,true\n"}), "CRM 1")
    assert await opportunities(graph) == []


async def test_the_original_deleted_leaves_the_record_known_to_its_copy(graph: Graph, tmp_path: Path) -> None:
    await original_and_copy(graph, tmp_path)
    await ingest_path(graph, export(tmp_path / "crm-del", {
        "opportunities.csv": "Id,IsDeleted\nO1,true\n", "accounts.csv": "Id,IsDeleted\nA,true\n"}), "CRM 1")
    assert [(d["key"], d["knownIn"]) for d in await opportunities(graph)] == [("O1", ["Marketo 1/M-O1"])]
    assert await company_won_total(graph, "A") == 100.0


async def test_unlinking_a_sync_splits_the_records_again(graph: Graph, tmp_path: Path) -> None:
    await ingest_path(graph, export(tmp_path / "crm", {
        "accounts.csv": ACCOUNTS + "A,Acme,\n",
        "opportunities.csv": OPPORTUNITIES + "O1,A,Deal,100,Closed Won,2026-05-01\n",
        "people.csv": "Id,Email\nC1,ann@acme.example\n",
        "opportunity-contact-roles.csv": "OpportunityId,PersonId,Role\nO1,C1,Decision Maker\n"}), "CRM 1")
    await ingest_path(graph, export(tmp_path / "mk", {
        "accounts.csv": COPIED_ACCOUNTS + "M-A,Acme,,CRM 1,A\n",
        "opportunities.csv": COPIED_OPPORTUNITIES + "M-O1,M-A,Deal,100,Closed Won,2026-05-01,CRM 1,O1\n",
        "people.csv": "Id,Email\nL1,bob@acme.example\n",
        "opportunity-contact-roles.csv": "OpportunityId,PersonId,Role\nM-O1,L1,Champion\n"}), "Marketo 1")
    assert await company_won_total(graph, "A") == 100.0
    # The copy stops naming its original: Marketo's records become records of their own again.
    await ingest_path(graph, export(tmp_path / "mk-unlinked", {
        "accounts.csv": ACCOUNTS + "M-A,Acme (Marketo),\n",
        "opportunities.csv": OPPORTUNITIES + "M-O1,M-A,Deal,120,Closed Won,2026-05-01\n"}), "Marketo 1")
    assert [(d["source"], d["key"], d["amount"], d["account"], d["knownIn"]) for d in await opportunities(graph)] == [
        ("Marketo 1", "M-O1", 120.0, "M-A", ["Marketo 1/M-O1"]), ("CRM 1", "O1", 100.0, "A", ["CRM 1/O1"])]
    roles = await run_cypher(graph, "MATCH (p:Person)-[r:CONTACT_FOR]->(o) "
                                    "RETURN p.email AS email, r.role AS role, o.sourceKey AS deal ORDER BY email")
    assert roles == [{"email": "ann@acme.example", "role": "Decision Maker", "deal": "O1"},
                     {"email": "bob@acme.example", "role": "Champion", "deal": "M-O1"}]
    assert await company_won_total(graph, "A") == 100.0
    assert await company_won_total(graph, "M-A") == 120.0
    # And linking it again joins them once more, leaving no record of Marketo's own behind.
    await ingest_path(graph, export(tmp_path / "mk-relinked", {
        "accounts.csv": COPIED_ACCOUNTS + "M-A,Acme,,CRM 1,A\n",
        "opportunities.csv": COPIED_OPPORTUNITIES + "M-O1,M-A,Deal,100,Closed Won,2026-05-01,CRM 1,O1\n"}),
        "Marketo 1")
    assert [(d["key"], d["knownIn"]) for d in await opportunities(graph)] == [("O1", ["CRM 1/O1", "Marketo 1/M-O1"])]
    assert [r["n"] for r in await run_cypher(graph, "MATCH (a:Account) RETURN count(a) AS n")] == [1]
    assert [r["n"] for r in await run_cypher(graph, "MATCH (c:Company) RETURN count(c) AS n")] == [1]


async def test_a_synced_copy_gives_both_columns_and_names_another_source(graph: Graph, tmp_path: Path) -> None:
    with pytest.raises(ImportRejected) as rejected:
        await ingest_path(graph, export(tmp_path / "mk", {
            "accounts.csv": "Id,Name,SyncedFromId\nM-A,Acme,A\n"}), "Marketo 1")
    assert "accounts.csv:2:" in str(rejected.value) and "SyncedFromSource" in str(rejected.value)
    assert "M-A" in str(rejected.value)
    with pytest.raises(ImportRejected) as rejected:
        await ingest_path(graph, export(tmp_path / "mk2", {
            "accounts.csv": COPIED_ACCOUNTS + "M-A,Acme,,Marketo 1,A\n"}), "Marketo 1")
    assert "SyncedFromSource" in str(rejected.value) and "own source" in str(rejected.value)
    assert await run_cypher(graph, "MATCH (n) WHERE n:Account OR n:Opportunity RETURN n") == []


async def test_a_segment_counts_a_synced_deal_once(graph: Graph, tmp_path: Path) -> None:
    await seed(graph, SEED_DIR)
    # A third system syncing the 900,000 deal once more still counts it once.
    await ingest_path(graph, export(tmp_path / "mk", {
        "accounts.csv": COPIED_ACCOUNTS + "X-A,Townsend Inc.,,CRM 2,0012B00007\n",
        "opportunities.csv": COPIED_OPPORTUNITIES
        + "X-O,X-A,Printer line,900000,Closed Won,2026-08-15,CRM 2,0062B00011\n"}), "Marketo 3")
    found = await graphql_data(graph, """{ audience(minCompanyWonAmount: 1000000,
        visitedPage: "https://www.bodea.com/products/new-product", withinDays: 30) {
        people { email companyWonTotal } } }""")
    assert found["audience"]["people"] == [{"email": "p2@townsend.com", "companyWonTotal": 1_100_000.0}]


async def test_an_account_is_found_by_any_source_key_and_shows_every_key(seeded_graph: Graph) -> None:
    found = await graphql_data(seeded_graph, """{ account(source: "Marketo 1", sourceKey: "3001") {
        source sourceKey name knownAs { source sourceKey } company { wonTotal } } }""")
    assert found["account"] == {
        "source": "CRM 1", "sourceKey": "0011A00001", "name": "Townsend",
        "knownAs": [{"source": "CRM 1", "sourceKey": "0011A00001"}, {"source": "Marketo 1", "sourceKey": "3001"}],
        "company": {"wonTotal": 1_100_000.0}}


async def test_a_graph_written_before_synced_copies_is_migrated_once(graph: Graph, tmp_path: Path) -> None:
    await run_cypher(graph, """
        CREATE (a:Account {source: 'CRM 1', sourceKey: 'A', name: 'Acme', firstSeenAt: datetime()})
               -[:HAS_OPPORTUNITY {source: 'CRM 1'}]->
               (:Opportunity {source: 'CRM 1', sourceKey: 'O1', amount: 5.0, isWon: true, stage: 'Closed Won'})
        CREATE (a)-[:PART_OF]->(:Company {id: 'CRM 1/A'})""")
    await graph.migrate()
    keys = await run_cypher(graph, "MATCH (x)-[k:KNOWN_IN]->(s:Source) "
                                   "RETURN labels(x)[0] AS label, s.name + '/' + k.sourceKey AS key ORDER BY label")
    assert keys == [{"label": "Account", "key": "CRM 1/A"}, {"label": "Opportunity", "key": "CRM 1/O1"}]
    await graph.migrate()  # a second start changes nothing
    assert len(await run_cypher(graph, "MATCH ()-[k:KNOWN_IN]->() RETURN k")) == 2
    assert len(await run_cypher(graph, "MATCH (m:Migration) RETURN m")) == 1
    # The legacy records are found by their keys again: a delta import updates them in place.
    update = export(tmp_path / "crm", {"opportunities.csv": OPPORTUNITIES + "O1,A,Deal,7,Closed Won,2026-05-01\n"})
    await ingest_path(graph, update, "CRM 1")
    assert [(d["key"], d["amount"], d["account"]) for d in await opportunities(graph)] == [("O1", 7.0, "A")]


async def test_the_upsert_mutations_take_a_synced_copy(seeded_graph: Graph) -> None:
    changed = await graphql_data(seeded_graph, """mutation {
        upsertOpportunities(source: "Marketo 2", opportunities: [{id: "mk2-opp-0009", accountId: "7001",
          name: "Printer line, synced again", amount: 1, stageName: "Prospecting", closeDate: "2026-08-15",
          syncedFromSource: "CRM 2", syncedFromId: "0062B00011"}]) { records } }""")
    assert changed["upsertOpportunities"]["records"] == 1
    deals = {d["key"]: d for d in await opportunities(seeded_graph)}
    assert deals["0062B00011"]["knownIn"] == ["CRM 2/0062B00011", "Marketo 2/mk2-opp-0001", "Marketo 2/mk2-opp-0009"]
    assert (deals["0062B00011"]["amount"], deals["0062B00011"]["stage"]) == (900_000.0, "Closed Won")
    assert len(deals) == 4  # Townsend's 3 and its parent's
