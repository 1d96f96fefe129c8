"""Corporate families (issue 15 item 3) against the real Neo4j, answers computed by hand.

The family of CRM 1's export below (`ParentId`, won deals in brackets):

    U "Ultra Group" (1,000)          X "Other Co" (100,000), no family
    ├── M "Mid Co" (200)
    │   └── G "Grand Co" (30, and 5 open)
    └── S "Sibling Co" (4,000)

one person at each account (u@, m@, g@, s@, x@). Won sums:
FAMILY(U) = 1,000 + 200 + 30 + 4,000 = 5,230; FAMILY(M) = 230; FAMILY(G) = 30; FAMILY(S) = 4,000;
ULTIMATE of U, M, G and S = 5,230; X is 100,000 in every scope.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service.config import PROJECT_ROOT
from service.database import Graph
from service.ingest.batch import check_references
from service.ingest.errors import ImportRejected, RowError
from service.ingest.pipeline import ingest_path, parse_tables, read_path
from service.ingest.writer import write_batch
from service.realtime.broker import Broker
from service.realtime.live import LiveAudiences
from tests.helpers import graphql_data, run_cypher, save_segment, selected

pytestmark = pytest.mark.asyncio

FAMILY = {
    "accounts.csv": "Id,Name,ParentId\n"
                    "G,Grand Co,M\n"  # the parent comes later in the file: written after every account
                    "M,Mid Co,U\n"
                    "U,Ultra Group,\n"
                    "S,Sibling Co,U\n"
                    "X,Other Co,\n",
    "opportunities.csv": "Id,AccountId,Name,Amount,StageName,CloseDate\n"
                         "OU,U,Group deal,1000,Closed Won,2026-01-10\n"
                         "OM,M,Mid deal,200,Closed Won,2026-02-10\n"
                         "OG,G,Grand deal,30,Closed Won,2026-03-10\n"
                         "OG2,G,Grand renewal,5,Prospecting,2027-03-10\n"
                         "OS,S,Sibling deal,4000,Closed Won,2026-04-10\n"
                         "OX,X,Other deal,100000,Closed Won,2026-05-10\n",
    "people.csv": "Id,Email\nPU,u@u.example\nPM,m@m.example\nPG,g@g.example\nPS,s@s.example\nPX,x@x.example\n",
    "account-people.csv": "AccountId,PersonId\nU,PU\nM,PM\nG,PG\nS,PS\nX,PX\n",
}
LINK = "LinkId,SourceA,AccountIdA,SourceB,AccountIdB\n"
U, M, G, S, X = "u@u.example", "m@m.example", "g@g.example", "s@s.example", "x@x.example"
COMPANY = """query ($id: ID!) { company(id: $id) {
  id parent { id } parents { id } children { id } ultimateParent { id }
  family { scope companyIds companyCount wonTotal openPipeline opportunityCount }
  ultimate: family(scope: ULTIMATE) { companyIds wonTotal opportunityCount }
  alone: family(scope: COMPANY) { companyIds wonTotal } } }"""


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


async def family(graph: Graph, tmp_path: Path) -> None:
    await ingest_path(graph, write(tmp_path / "crm", FAMILY), "CRM 1")


async def company(graph: Graph, key: str) -> dict[str, Any]:
    found: dict[str, Any] = (await graphql_data(graph, COMPANY, id=f"CRM 1/{key}"))["company"]
    return found


async def rejected(graph: Graph, path: Path, source: str | None = None, mdm: bool = False) -> list[RowError]:
    with pytest.raises(ImportRejected) as caught:
        await ingest_path(graph, path, source, mdm=mdm)
    return caught.value.errors


async def hierarchy(graph: Graph) -> list[tuple[str, str]]:
    rows = await run_cypher(graph, "MATCH (c:Company)-[:CHILD_OF]->(p:Company) "
                                   "RETURN c.id AS c, p.id AS p ORDER BY c, p")
    return [(str(row["c"]), str(row["p"])) for row in rows]


async def drift(graph: Graph) -> list[dict[str, object]]:
    """The data check of docs/graph-model.md (snippet 10): companies whose derived hierarchy disagrees with
    their accounts' links, or that are their own ancestor. Run as printed there."""
    text = (PROJECT_ROOT / "docs" / "graph-model.md").read_text()
    start = text.index("// the company hierarchy disagrees with the accounts' links")
    return await run_cypher(graph, text[start:text.index("```", start)])


async def test_a_three_level_family_rolls_up_each_deal_once(graph: Graph, tmp_path: Path) -> None:
    await family(graph, tmp_path)
    assert await hierarchy(graph) == [("CRM 1/G", "CRM 1/M"), ("CRM 1/M", "CRM 1/U"), ("CRM 1/S", "CRM 1/U")]
    assert await drift(graph) == []
    await run_cypher(graph, "MATCH (:Company {id: 'CRM 1/S'})-[r:CHILD_OF]->() DELETE r")  # the check sees drift
    assert await drift(graph) == [{"company": "CRM 1/S", "derived": ["CRM 1/U"], "stored": []}]
    await run_cypher(graph, "MATCH (s:Company {id: 'CRM 1/S'}), (u:Company {id: 'CRM 1/U'}) MERGE (s)-[:CHILD_OF]->(u)")
    top = await company(graph, "U")
    assert (top["parent"], top["children"], top["ultimateParent"]) == (
        None, [{"id": "CRM 1/M"}, {"id": "CRM 1/S"}], {"id": "CRM 1/U"})
    assert top["family"] == {"scope": "FAMILY", "companyIds": ["CRM 1/G", "CRM 1/M", "CRM 1/S", "CRM 1/U"],
                             "companyCount": 4, "wonTotal": 5230.0, "openPipeline": 5.0, "opportunityCount": 5}
    middle = await company(graph, "M")
    assert (middle["parent"], middle["children"], middle["ultimateParent"]) == (
        {"id": "CRM 1/U"}, [{"id": "CRM 1/G"}], {"id": "CRM 1/U"})
    assert (middle["family"]["companyIds"], middle["family"]["wonTotal"]) == (["CRM 1/G", "CRM 1/M"], 230.0)
    assert middle["ultimate"]["wonTotal"] == 5230.0
    assert middle["alone"] == {"companyIds": ["CRM 1/M"], "wonTotal": 200.0}
    grand = await company(graph, "G")
    assert (grand["parent"], grand["ultimateParent"], grand["family"]["wonTotal"], grand["ultimate"]["wonTotal"]) == (
        {"id": "CRM 1/M"}, {"id": "CRM 1/U"}, 30.0, 5230.0)
    other = await company(graph, "X")
    assert (other["family"]["wonTotal"], other["ultimate"]["wonTotal"], other["ultimateParent"]) == (
        100000.0, 100000.0, {"id": "CRM 1/X"})

    # Rules: the same figure per scope.
    assert await selected(graph, {"opportunities": {"op": "GTE", "value": 230}}) == [S, U, X]
    assert await selected(graph, {"opportunities": {"scope": "FAMILY", "op": "GTE", "value": 230}}) == [M, S, U, X]
    assert await selected(graph, {"opportunities": {"scope": "ULTIMATE", "op": "EQ", "value": 5230}}) == [G, M, S, U]
    # Summed at query time (a stage filter): the deals of M's family, any status, are OM, OG and OG2.
    counted = {"opportunities": {"scope": "FAMILY", "aggregate": "COUNT", "status": "ANY",
                                 "closedAfter": "2026-01-01", "op": "EQ", "value": 3}}
    assert await selected(graph, counted) == [M]
    # Firmographics of the family: G's name is in the family of U, M and G; S's under the ultimate parent.
    assert await selected(graph, {"account": {"scope": "FAMILY", "field": "NAME", "op": "EQ",
                                              "value": "grand co"}}) == [G, M, U]
    assert await selected(graph, {"account": {"scope": "ULTIMATE", "field": "NAME", "op": "EQ",
                                              "value": "sibling co"}}) == [G, M, S, U]
    assert await selected(graph, {"account": {"field": "NAME", "op": "EQ", "value": "sibling co"}}) == [S]


async def test_the_explanation_names_the_family_figure(graph: Graph, tmp_path: Path) -> None:
    await family(graph, tmp_path)
    query = """query ($rule: RuleInput!) { preview(rule: $rule) { members(first: 10) { members { email
      explanation { path matched companies { companyId value matched dealCount accounts { sourceKey } } } } } } }"""
    rule = {"opportunities": {"scope": "ULTIMATE", "op": "GT", "value": 5000}}
    members = (await graphql_data(graph, query, rule=rule))["preview"]["members"]["members"]
    grand = next(member for member in members if member["email"] == G)
    assert grand["explanation"] == [{"path": "opportunities", "matched": True, "companies": [
        {"companyId": "CRM 1/U", "value": 5230.0, "matched": True, "dealCount": 4, "accounts": [{"sourceKey": "G"}]}]}]


async def test_mdm_parents_join_the_hierarchy_and_a_deal_under_two_parents_counts_once(
        graph: Graph, tmp_path: Path) -> None:
    await family(graph, tmp_path)
    await ingest_path(graph, write(tmp_path / "mdm", {
        "parents.csv": "LinkId,SourceChild,AccountIdChild,SourceParent,AccountIdParent,UpdatedAt\n"
                       "P1,CRM 1,G,CRM 1,S,2026-10-30T08:00:00Z\n"}), mdm=True)
    link = await run_cypher(graph, "MATCH (:Account {sourceKey: 'G'})-[l:SUBSIDIARY_OF {mdmId: 'P1'}]->"
                                   "(:Account {sourceKey: 'S'}) RETURN l.source AS source, l.updatedAt IS NULL AS none")
    assert link == [{"source": "MDM", "none": False}]
    grand = await company(graph, "G")
    assert grand["parents"] == [{"id": "CRM 1/M"}, {"id": "CRM 1/S"}]
    sibling = await company(graph, "S")
    assert (sibling["family"]["companyIds"], sibling["family"]["wonTotal"]) == (["CRM 1/G", "CRM 1/S"], 4030.0)
    top = await company(graph, "U")  # G under both M and S: its 30 once
    assert (top["family"]["wonTotal"], top["family"]["opportunityCount"]) == (5230.0, 5)
    assert await selected(graph, {"opportunities": {"scope": "FAMILY", "op": "EQ", "value": 4030}}) == [S]
    # Deleting the MDM link leaves CRM 1's hierarchy as it was.
    await ingest_path(graph, write(tmp_path / "mdm2", {"parents.csv": "LinkId,IsDeleted\nP1,true\n"}), mdm=True)
    assert (await company(graph, "G"))["parents"] == [{"id": "CRM 1/M"}]


async def test_a_cycle_is_refused_naming_the_record_and_nothing_is_written(graph: Graph, tmp_path: Path) -> None:
    await family(graph, tmp_path)
    before = await hierarchy(graph)
    cyclic = write(tmp_path / "cycle", {"accounts.csv": "Id,Name,ParentId\nN,New Co,\nU,Ultra Group,G\n"})
    [error] = await rejected(graph, cyclic, "CRM 1")
    assert (error.file, error.line, error.id, error.column) == (str(cyclic / "accounts.csv"), 3, "U", "ParentId")
    assert error.reason == ("the parent 'G' of 'CRM 1' would make a cycle in the corporate hierarchy: companies "
                            "CRM 1/U -> CRM 1/G -> CRM 1/M -> CRM 1/U (each a subsidiary of the next)")
    assert await hierarchy(graph) == before
    assert await run_cypher(graph, "MATCH (a:Account {sourceKey: 'N'}) RETURN a") == []

    # From MDM too: U a subsidiary of G.
    mdm = write(tmp_path / "mdm", {"parents.csv": "LinkId,SourceChild,AccountIdChild,SourceParent,AccountIdParent\n"
                                                  "P9,CRM 1,U,CRM 1,G\n"})
    [error] = await rejected(graph, mdm, mdm=True)
    assert (error.line, error.id, error.column) == (2, "P9", "AccountIdParent")
    assert "would make a cycle" in error.reason
    # An account its own parent, in one row.
    [error] = await rejected(graph, write(tmp_path / "self", {"accounts.csv": "Id,Name,ParentId\nU,Ultra Group,U\n"}),
                             "CRM 1")
    assert (error.id, error.column, error.reason) == ("U", "ParentId", "an account cannot be its own parent")
    assert await hierarchy(graph) == before


async def test_a_parent_in_the_same_company_is_refused_either_way(graph: Graph, tmp_path: Path) -> None:
    await family(graph, tmp_path)
    # MDM may not make a parent and its subsidiary one company.
    joined = write(tmp_path / "join", {"same-company.csv": "LinkId,SourceA,AccountIdA,SourceB,AccountIdB\n"
                                                           "L1,CRM 1,G,CRM 1,U\n"})
    [error] = await rejected(graph, joined, mdm=True)
    assert (error.line, error.id, error.column) == (2, "L1", "AccountIdB")
    assert "a parent and its subsidiary" in error.reason
    assert await run_cypher(graph, "MATCH ()-[l:SAME_COMPANY]->() RETURN l") == []
    # Nor may a parent name an account of the account's own company.
    await ingest_path(graph, write(tmp_path / "crm2", {"accounts.csv": "Id,Name\nY,Other Co Europe\n"}), "CRM 2")
    await ingest_path(graph, write(tmp_path / "link", {"same-company.csv": LINK + "L2,CRM 1,X,CRM 2,Y\n"}), mdm=True)
    inside = write(tmp_path / "inside", {"parents.csv": "LinkId,SourceChild,AccountIdChild,SourceParent,"
                                                        "AccountIdParent\nP2,CRM 2,Y,CRM 1,X\n"})
    [error] = await rejected(graph, inside, mdm=True)
    assert (error.id, error.column) == ("P2", "AccountIdParent")
    assert error.reason.startswith("the parent 'X' of 'CRM 1' is in the same company as the account (CRM 1/X)")


async def test_the_write_guards_against_a_cycle_the_check_did_not_see(graph: Graph, tmp_path: Path) -> None:
    """An import that raced this one's check: the transaction that would close a cycle is rolled back."""
    await family(graph, tmp_path)
    folder = write(tmp_path / "late", {"accounts.csv": "Id,Name,ParentId\nN,New Co,\nU,Ultra Group,G\n"})
    batch = parse_tables("CRM 1", read_path(folder))
    errors: list[RowError] = []
    await check_references(graph, batch, errors)
    assert errors == []
    with pytest.raises(ImportRejected) as caught:
        await write_batch(graph, batch, datetime.now(UTC))  # the family check skipped, as if raced
    assert "cycle through companies CRM 1/G, CRM 1/M, CRM 1/U" in str(caught.value)
    assert await run_cypher(graph, "MATCH (a:Account {sourceKey: 'N'}) RETURN a") == []
    assert ("CRM 1/U", "CRM 1/G") not in await hierarchy(graph)


async def test_a_parent_moves_and_clears_and_companies_regrouped_keep_their_family(graph: Graph, tmp_path: Path
                                                                                    ) -> None:
    await family(graph, tmp_path)
    # G moves from M to S; S's ParentId emptied: S is now a top of its own.
    await ingest_path(graph, write(tmp_path / "move", {"accounts.csv": "Id,Name,ParentId\nG,Grand Co,S\n"
                                                                       "S,Sibling Co,\n"}), "CRM 1")
    assert await hierarchy(graph) == [("CRM 1/G", "CRM 1/S"), ("CRM 1/M", "CRM 1/U")]
    assert (await company(graph, "S"))["family"]["wonTotal"] == 4030.0
    assert (await company(graph, "U"))["family"]["wonTotal"] == 1200.0
    # An account joined to M by MDM whose id is smaller: M's company is re-created as "CRM 1/A0" and
    # keeps its place in the family; unlinked, "CRM 1/M" is re-created in its turn.
    await ingest_path(graph, write(tmp_path / "a0", {"accounts.csv": "Id,Name\nA0,Alpha Mid\n",
                                                      "opportunities.csv": "Id,AccountId,Name,Amount,StageName,"
                                                      "CloseDate\nOA0,A0,Alpha deal,7,Closed Won,2026-02-11\n"}),
                      "CRM 1")
    await ingest_path(graph, write(tmp_path / "link", {"same-company.csv": LINK + "L1,CRM 1,A0,CRM 1,M\n"}), mdm=True)
    assert await hierarchy(graph) == [("CRM 1/A0", "CRM 1/U"), ("CRM 1/G", "CRM 1/S")]
    assert (await company(graph, "U"))["family"]["wonTotal"] == 1207.0
    await ingest_path(graph, write(tmp_path / "unlink", {"same-company.csv": "LinkId,IsDeleted\nL1,true\n"}), mdm=True)
    assert await hierarchy(graph) == [("CRM 1/G", "CRM 1/S"), ("CRM 1/M", "CRM 1/U")]
    assert (await company(graph, "U"))["family"]["wonTotal"] == 1200.0
    # The source deletes U: its subsidiaries have no parent any more.
    assert await drift(graph) == []
    await ingest_path(graph, write(tmp_path / "gone", {"accounts.csv": "Id,IsDeleted\nU,true\n"}), "CRM 1")
    assert await hierarchy(graph) == [("CRM 1/G", "CRM 1/S")]
    assert await drift(graph) == []


async def test_a_subsidiary_s_deal_and_a_new_parent_move_the_family_s_people_live(graph: Graph, tmp_path: Path
                                                                                    ) -> None:
    """A saved segment over a FAMILY figure: G's deal won marks M's and U's people (G's ancestors); a parent
    link made by MDM marks the people of both families it joins."""
    await family(graph, tmp_path)
    big = await save_segment(graph, "Big families", {"opportunities": {"scope": "FAMILY", "op": "GTE", "value": 1230}})
    live = LiveAudiences(graph, Broker())
    await live.step()
    # G's open 5 becomes a won 1,000: FAMILY(M) = 200 + 30 + 1,000 = 1,230; G's own family 1,030.
    await ingest_path(graph, write(tmp_path / "won", {"opportunities.csv": "Id,AccountId,Name,Amount,StageName,"
                                                      "CloseDate\nOG2,G,Grand renewal,1000,Closed Won,2026-11-10\n"}),
                      "CRM 1")
    changes = await live.step()
    assert sorted((c.email, c.change) for c in changes if c.segment_id == big) == [(M, "ENTERED")]
    # X (100,000) becomes a subsidiary of G: FAMILY(G) = 101,030 and G enters; M, U and X stay in.
    await ingest_path(graph, write(tmp_path / "mdm", {
        "parents.csv": "LinkId,SourceChild,AccountIdChild,SourceParent,AccountIdParent\nP1,CRM 1,X,CRM 1,G\n"}),
        mdm=True)
    changes = await live.step()
    assert sorted((c.email, c.change) for c in changes if c.segment_id == big) == [(G, "ENTERED")]


async def test_the_seed_gives_townsend_a_parent_without_changing_its_own_answers(seeded_graph: Graph) -> None:
    townsend = (await graphql_data(seeded_graph, COMPANY, id="CRM 1/0011A00001"))["company"]
    assert (townsend["parent"], townsend["ultimateParent"], townsend["children"]) == (
        {"id": "CRM 1/0011A00009"}, {"id": "CRM 1/0011A00009"}, [])
    assert townsend["alone"]["wonTotal"] == 1_100_000.0
    assert townsend["family"]["wonTotal"] == 1_100_000.0  # no subsidiaries
    assert (townsend["ultimate"]["companyIds"], townsend["ultimate"]["wonTotal"]) == (
        ["CRM 1/0011A00001", "CRM 1/0011A00009"], 1_600_000.0)
    # CRM 1's ParentId and MDM's link say the same: one company edge, two account links.
    links = await run_cypher(seeded_graph, "MATCH (a:Account)-[l:SUBSIDIARY_OF]->(p:Account) "
                                           "RETURN a.sourceKey AS child, p.sourceKey AS parent, l.source AS source "
                                           "ORDER BY source")
    assert links == [{"child": "0011A00001", "parent": "0011A00009", "source": "CRM 1"},
                     {"child": "0012B00007", "parent": "0011A00009", "source": "MDM"}]
    everyone = ["p1@townsend.com", "p2@townsend.com", "p3@townsend.com"]
    assert await selected(seeded_graph, {"opportunities": {"op": "GT", "value": 1_500_000}}) == []
    assert await selected(seeded_graph, {"opportunities": {"scope": "ULTIMATE", "op": "GT", "value": 1_500_000}}
                          ) == everyone
    assert await selected(seeded_graph, {"account": {"scope": "ULTIMATE", "field": "NAME", "op": "EQ",
                                                     "value": "Townsend Holdings"}}) == everyone
    assert await selected(seeded_graph, {"account": {"field": "NAME", "op": "EQ", "value": "Townsend Holdings"}}) == []
    assert await selected(seeded_graph, {"opportunities": {"scope": "FAMILY", "op": "GT", "value": 1_500_000}}) == []


async def test_the_family_example_of_docs_segments_md(seeded_graph: Graph) -> None:
    """The GraphQL example of docs/segments.md, "Corporate families", and its answer, as printed there."""
    text = (PROJECT_ROOT / "docs" / "segments.md").read_text()
    section = text[text.index("## Corporate families"):text.index("## Limits")]
    query = section.split("```graphql\n")[1].split("```")[0]
    answer = json.loads(section.split("```json\n")[1].split("```")[0])
    assert await graphql_data(seeded_graph, query) == answer
    holdings = await graphql_data(seeded_graph, '{ company(id: "CRM 1/0011A00009") { children { id } '
                                                'family { wonTotal } } }')
    assert holdings == {"company": {"children": [{"id": "CRM 1/0011A00001"}], "family": {"wonTotal": 1_600_000.0}}}
