"""Importing source exports into a real Neo4j: every record kind, identity, updates, deletes, MDM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service.database import Graph
from service.ingest.pipeline import ingest_path
from service.segments import presets
from tests.helpers import SEED_DIR, run_cypher, wipe
from tests.snapshot import snapshot

pytestmark = pytest.mark.asyncio

FULL_EXPORT = {
    "accounts.csv": "Id,Name,Industry,BillingCountry,NumberOfEmployees,Website\n"
                    "A1,Acme,Automotive,Germany,1200,acme.example\n",
    "people.csv": "Id,Email,FirstName,LastName,Title,Unsubscribed\n"
                  "L1,ann@acme.example,Ann,Lee,CTO,false\nL2,bob@acme.example,Bob,Ray,Buyer,true\n",
    "account-people.csv": "AccountId,PersonId,Role\nA1,L1,Decision Maker\nA1,L2,\n",
    "opportunities.csv": "Id,AccountId,Name,Amount,CurrencyIsoCode,StageName,CloseDate\n"
                         "O1,A1,Fleet,250000,EUR,Closed Won,2026-05-01\n"
                         "O2,A1,Renewal,1000,eur,Prospecting,2027-01-01\n",
    "opportunity-contact-roles.csv": "OpportunityId,PersonId,Role,IsPrimary\nO1,L1,Economic Buyer,true\n",
    "web-visits.csv": "Id,PersonId,Url,VisitedAt\nV1,L1,https://acme.example/new,2026-11-01T10:00:00\n",
    "campaigns.csv": "Id,Name,Type,Status,StartDate\nC1,Launch,Webinar,In Progress,2026-10-01\n",
    "campaign-members.csv": "CampaignId,PersonId,Status\nC1,L1,Attended\n",
    "lists.csv": "Id,Name\nML1,VIP customers\n",
    "list-members.csv": "ListId,PersonId\nML1,L2\n",
}


def export(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


async def one(graph: Graph, statement: str, **parameters: Any) -> Any:
    rows = await run_cypher(graph, statement, **parameters)
    assert len(rows) == 1, rows
    return next(iter(rows[0].values()))


async def test_every_record_kind_lands_with_its_source(graph: Graph, tmp_path: Path) -> None:
    report = await ingest_path(graph, export(tmp_path / "crm", FULL_EXPORT), "CRM 1")
    assert report.rows == 13
    account = await one(graph, "MATCH (a:Account {source: 'CRM 1', sourceKey: 'A1'}) RETURN a {.*} AS a")
    assert (account["name"], account["industry"], account["country"], account["employees"]) == (
        "Acme", "Automotive", "Germany", 1200)
    assert account["firstSeenAt"] == account["lastSeenAt"]
    opportunity = await one(graph, "MATCH (:Account {sourceKey: 'A1'})-[:HAS_OPPORTUNITY]->(o {sourceKey: 'O1'}) "
                                   "RETURN o {.*} AS o")
    assert (opportunity["amount"], opportunity["isWon"], opportunity["isClosed"], opportunity["currency"]) == (
        250000.0, True, True, "EUR")
    assert await one(graph, "MATCH (o:Opportunity {sourceKey: 'O2'}) RETURN o.currency") == "EUR"
    assert await one(graph, "MATCH (p:Person {email: 'ann@acme.example'})-[k:KNOWN_IN]->(s:Source) "
                            "RETURN [s.name, k.sourceKey, k.unsubscribed]") == ["CRM 1", "L1", False]
    assert await one(graph, "MATCH (:Person {email: 'bob@acme.example'})-[k:KNOWN_IN]->() "
                            "RETURN k.unsubscribed") is True
    assert await one(graph, "MATCH (:Person {email: 'ann@acme.example'})"
                            "-[r:ASSOCIATED_WITH]->(:Account {sourceKey: 'A1'}) "
                            "RETURN [r.role, r.source]") == ["Decision Maker", "CRM 1"]
    assert await one(graph, "MATCH (:Person {email: 'ann@acme.example'})"
                            "-[r:CONTACT_FOR]->(:Opportunity {sourceKey: 'O1'}) "
                            "RETURN [r.role, r.isPrimary]") == ["Economic Buyer", True]
    assert await one(graph, "MATCH (:Person {email: 'ann@acme.example'})-[:VISITED]->(v:WebVisit) "
                            "RETURN toString(v.visitedAt)") == "2026-11-01T10:00:00Z"
    assert await one(graph, "MATCH (:Person {email: 'ann@acme.example'})-[m:MEMBER_OF]->(c:Campaign) "
                            "RETURN [c.name, m.status, toString(c.startDate)]") == ["Launch", "Attended", "2026-10-01"]
    assert await one(graph, "MATCH (:Person {email: 'bob@acme.example'})-[:ON_LIST]->(l:MarketingList) "
                            "RETURN l.name") == "VIP customers"
    assert await one(graph, "MATCH (:Account {sourceKey: 'A1'})-[:PART_OF]->(c:Company) RETURN c.id") == "CRM 1/A1"
    untagged = await one(graph, """
        MATCH ()-[r:ASSOCIATED_WITH|HAS_OPPORTUNITY|CONTACT_FOR|VISITED|MEMBER_OF|ON_LIST]->()
        WHERE r.source IS NULL OR r.lastSeenAt IS NULL RETURN count(r)""")
    assert untagged == 0


async def test_json_lines_give_the_same_graph_as_csv(graph: Graph, tmp_path: Path) -> None:
    await ingest_path(graph, export(tmp_path / "csv", FULL_EXPORT), "CRM 1")
    from_csv = await snapshot(graph)
    await wipe(graph)
    folder = tmp_path / "jsonl"
    folder.mkdir()
    import csv
    import io

    for name, text in FULL_EXPORT.items():
        rows = list(csv.DictReader(io.StringIO(text)))
        lines = [json.dumps({k: v for k, v in row.items() if v != ""}) for row in rows]
        (folder / name.replace(".csv", ".jsonl")).write_text("\n".join(lines) + "\n")
    # JSON values may be typed as well as strings.
    (folder / "opportunities.jsonl").write_text(
        '{"Id": "O1", "AccountId": "A1", "Name": "Fleet", "Amount": 250000, "CurrencyIsoCode": "EUR", '
        '"StageName": "Closed Won", "CloseDate": "2026-05-01"}\n'
        '{"Id": "O2", "AccountId": "A1", "Name": "Renewal", "Amount": 1000.0, "CurrencyIsoCode": "eur", '
        '"StageName": "Prospecting", "CloseDate": "2027-01-01"}\n')
    await ingest_path(graph, folder, "CRM 1")
    nodes, rels = await snapshot(graph)
    strip = lambda items: [tuple(x for x in item if "firstSeenAt" not in repr(x)) for item in items]  # noqa: E731
    assert strip(nodes) == strip(from_csv[0]) and len(rels) == len(from_csv[1])


async def test_one_person_across_sources_despite_case_and_spaces(graph: Graph, tmp_path: Path) -> None:
    await ingest_path(graph, export(tmp_path / "m1", {"people.csv": "Id,Email\n7, Jane.Doe@Example.COM \n"}),
                      "Marketo 1")
    await ingest_path(graph, export(tmp_path / "m2", {"people.csv": "Id,Email\n900,jane.doe@example.com\n"}),
                      "Marketo 2")
    known = await run_cypher(graph, "MATCH (p:Person)-[k:KNOWN_IN]->(s:Source) "
                                    "RETURN p.email AS email, s.name AS source, k.sourceKey AS id ORDER BY source")
    assert known == [{"email": "jane.doe@example.com", "source": "Marketo 1", "id": "7"},
                     {"email": "jane.doe@example.com", "source": "Marketo 2", "id": "900"}]


async def test_the_same_id_in_two_instances_is_two_records(graph: Graph, tmp_path: Path) -> None:
    accounts = {"accounts.csv": "Id,Name\n001,Acme\n"}
    await ingest_path(graph, export(tmp_path / "c1", accounts), "CRM 1")
    await ingest_path(graph, export(tmp_path / "c2", accounts), "CRM 2")
    assert await one(graph, "MATCH (a:Account {sourceKey: '001'}) RETURN count(a)") == 2
    assert await one(graph, "MATCH (c:Company) RETURN count(c)") == 2


async def test_reingesting_the_same_export_changes_nothing(graph: Graph) -> None:
    from service.seed import seed

    await seed(graph, SEED_DIR)
    before = await snapshot(graph)
    await seed(graph, SEED_DIR)
    assert await snapshot(graph) == before


async def test_updates_change_the_record_and_the_audience_follows(graph: Graph, tmp_path: Path) -> None:
    from service.seed import seed

    await seed(graph, SEED_DIR)
    rule = (1_200_000.0, "https://www.bodea.com/products/new-product", 60)
    assert await presets.audience(graph, *rule) == []
    # The open $300k renewal closes as won, and the first win is revised down.
    await ingest_path(graph, export(tmp_path / "m2", {"opportunities.csv":
        "Id,AccountId,Name,Amount,StageName,CloseDate\n"
        "0062B00012,0012B00007,Printer service renewal,300000,Closed Won,2026-11-20\n"}), "CRM 2")
    await ingest_path(graph, export(tmp_path / "m1", {"opportunities.csv":
        "Id,AccountId,Name,Amount,StageName,CloseDate\n"
        "0061A00001,0011A00001,Opportunity 1: fleet software,150000,Closed Won,2026-06-30\n"}), "CRM 1")
    rows = await presets.audience(graph, *rule)
    assert {r.email: r.company_won_total for r in rows} == {"p2@townsend.com": 1_350_000, "p3@townsend.com": 1_350_000}
    assert await one(graph, "MATCH (o:Opportunity) RETURN count(o)") == 4  # Townsend's 3, its parent's 1


async def test_deleted_rows_remove_records(graph: Graph, tmp_path: Path) -> None:
    await ingest_path(graph, export(tmp_path / "crm", FULL_EXPORT), "CRM 1")
    await ingest_path(graph, export(tmp_path / "del1", {
        "list-members.csv": "ListId,PersonId,IsDeleted\nML1,L2,true\n",
        "opportunities.csv": "Id,IsDeleted\nO2,true\n",
        "web-visits.csv": "Id,IsDeleted\nV1,TRUE\n",
        "campaign-members.csv": "CampaignId,PersonId,IsDeleted\nC1,L1,yes\n",
    }), "CRM 1")
    assert await one(graph, "MATCH ()-[r:ON_LIST]->() RETURN count(r)") == 0
    assert await one(graph, "MATCH (o:Opportunity) RETURN collect(o.sourceKey)") == ["O1"]
    assert await one(graph, "MATCH (v:WebVisit) RETURN count(v)") == 0
    assert await one(graph, "MATCH ()-[r:MEMBER_OF]->() RETURN count(r)") == 0
    await ingest_path(graph, export(tmp_path / "del2", {
        "people.csv": "Id,IsDeleted\nL2,true\n", "accounts.csv": "Id,IsDeleted\nA1,true\n"}), "CRM 1")
    assert await one(graph, "MATCH (p:Person) RETURN collect(p.email)") == ["ann@acme.example"]
    assert await one(graph, "MATCH (n) WHERE n:Account OR n:Opportunity OR n:Company RETURN count(n)") == 0


async def test_a_person_stays_while_another_source_still_knows_them(graph: Graph, tmp_path: Path) -> None:
    for source, person_id in (("Marketo 1", "1"), ("Marketo 2", "2")):
        await ingest_path(graph, export(tmp_path / source, {
            "people.csv": f"Id,Email\n{person_id},sam@x.example\n",
            "web-visits.csv": f"Id,PersonId,Url,VisitedAt\n"
                              f"v{person_id},{person_id},https://x.example/,2026-11-01T00:00:00Z\n"}), source)
    await ingest_path(graph, export(tmp_path / "gone", {"people.csv": "Id,IsDeleted\n1,true\n"}), "Marketo 1")
    assert await one(graph, "MATCH (p:Person)-[:KNOWN_IN]->(s) RETURN collect(s.name)") == ["Marketo 2"]
    assert await one(graph, "MATCH (:Person)-[:VISITED]->(v) RETURN collect(v.source)") == ["Marketo 2"]


async def chain_of_four(graph: Graph, tmp_path: Path) -> None:
    """Accounts A-B-C-D in four sources, each with $300k won, linked A~B, B~C, C~D by MDM."""
    for index, key in enumerate("ABCD"):
        await ingest_path(graph, export(tmp_path / key, {
            "accounts.csv": f"Id,Name\n{key},Company {key}\n",
            "opportunities.csv": "Id,AccountId,Name,Amount,StageName,CloseDate\n"
                                 f"o{key},{key},Deal,300000,Closed Won,2026-01-01\n",
            "people.csv": f"Id,Email\np{key},{key.lower()}@chain.example\n",
            "account-people.csv": f"AccountId,PersonId\n{key},p{key}\n",
        }), f"Source {index}")
    await ingest_path(graph, export(tmp_path / "mdm", {"same-company.csv":
        "LinkId,SourceA,AccountIdA,SourceB,AccountIdB,UpdatedAt\n"
        "L-AB,Source 0,A,Source 1,B,2026-10-01T00:00:00Z\n"
        "L-BC,Source 2,C,Source 1,B,2026-10-02T00:00:00Z\n"
        "L-CD,Source 2,C,Source 3,D,2026-10-03T00:00:00Z\n"}), mdm=True)


async def companies(graph: Graph) -> list[list[str]]:
    rows = await run_cypher(graph, """
        MATCH (c:Company)<-[:PART_OF]-(a:Account)
        WITH c, a ORDER BY a.sourceKey
        WITH c, collect(a.sourceKey) AS keys ORDER BY keys[0]
        RETURN keys""")
    return [row["keys"] for row in rows]


async def test_chained_mdm_links_make_one_company_and_a_removal_splits_it(graph: Graph, tmp_path: Path) -> None:
    await chain_of_four(graph, tmp_path)
    assert await companies(graph) == [["A", "B", "C", "D"]]
    assert await one(graph, "MATCH (c:Company) RETURN c.id") == "Source 0/A"
    await ingest_path(graph, export(tmp_path / "unlink", {"same-company.csv": "LinkId,IsDeleted\nL-BC,true\n"}),
                      mdm=True)
    assert await companies(graph) == [["A", "B"], ["C", "D"]]
    # A link id moved to other accounts: the old link goes.
    await ingest_path(graph, export(tmp_path / "move", {"same-company.csv":
        "LinkId,SourceA,AccountIdA,SourceB,AccountIdB\nL-AB,Source 0,A,Source 3,D\n"}), mdm=True)
    assert await companies(graph) == [["A", "C", "D"], ["B"]]


async def test_deleting_a_linked_account_regroups_its_company(graph: Graph, tmp_path: Path) -> None:
    await chain_of_four(graph, tmp_path)
    await ingest_path(graph, export(tmp_path / "drop", {"accounts.csv": "Id,IsDeleted\nB,true\n"}), "Source 1")
    assert await companies(graph) == [["A"], ["C", "D"]]
    assert await one(graph, "MATCH (c:Company) WHERE NOT (c)<-[:PART_OF]-() RETURN count(c)") == 0


async def test_grouping_matches_a_traversal_of_the_links(graph: Graph, tmp_path: Path) -> None:
    await chain_of_four(graph, tmp_path)
    await ingest_path(graph, export(tmp_path / "unlink", {"same-company.csv": "LinkId,IsDeleted\nL-CD,true\n"}),
                      mdm=True)
    mismatches = await one(graph, """
        MATCH (a:Account)-[:PART_OF]->(c:Company)
        MATCH (a)-[:SAME_COMPANY*0..]-(m:Account)
        WITH a, c, collect(DISTINCT m) AS reachable
        WITH a, c, reachable, COLLECT { MATCH (c)<-[:PART_OF]-(x) RETURN x } AS grouped
        WHERE size(reachable) <> size(grouped) OR any(x IN grouped WHERE NOT x IN reachable)
        RETURN count(a)""")
    assert mismatches == 0


async def test_a_changed_email_moves_the_source_id_to_the_new_person(graph: Graph, tmp_path: Path) -> None:
    await ingest_path(graph, export(tmp_path / "v1", {"people.csv": "Id,Email\n5,old@x.example\n"}), "Marketo 1")
    await ingest_path(graph, export(tmp_path / "v2", {"people.csv": "Id,Email\n5,new@x.example\n"}), "Marketo 1")
    assert await one(graph, "MATCH (p:Person) RETURN collect(p.email)") == ["new@x.example"]
