"""Contact roles in rules: a person's role on their company's opportunities (opportunityRole, with an
optional status) and their role at an account (accountRole), against hand-computed answers on a
small imported graph; previewed, explained, saved and evaluated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from service.database import Graph
from service.ingest.pipeline import ingest_path
from tests.helpers import graphql_data, import_linked_crm, selected

pytestmark = pytest.mark.asyncio

ANN, BOB, CID, DEE, EVE = (f"{name}@{domain}.example" for name, domain in (
    ("ann", "acme"), ("bob", "acme"), ("cid", "beta"), ("dee", "beta"), ("eve", "gmail")))

FILES = {
    "accounts.csv": "Id,Name\nA,Acme\nB,Acme GmbH\nC,Beta\n",
    "opportunities.csv": "Id,AccountId,Name,Amount,StageName,CloseDate\n"
                         "o1,A,Fleet,500000,Closed Won,2026-03-01\n"
                         "o2,B,Service,100000,Negotiation/Review,2027-01-01\n"
                         "o3,C,Small,50000,Closed Lost,2026-04-01\n",
    "people.csv": "Id,Email\n1,ann@acme.example\n2,bob@acme.example\n3,cid@beta.example\n4,dee@beta.example\n"
                  "5,eve@gmail.example\n",
    "account-people.csv": "AccountId,PersonId,Role\nA,1,Decision Maker\nB,2,Technical Buyer\nC,3,Decision Maker\n"
                          "C,4,\n",
    # ann: on Acme's open o2 (account B; her account A is Acme too, by MDM). bob: on Acme's won o1.
    # cid: on Beta's lost o3. dee: a Decision Maker on Acme's o2, but she is at Beta: not her company's deal.
    # eve: on o1 without any account: no company, so no deal of her company.
    "opportunity-contact-roles.csv": "OpportunityId,PersonId,Role,IsPrimary\no2,1,Decision Maker,true\n"
                                     "o1,2,Decision Maker,false\no3,3,Economic Buyer,\no2,4,Decision Maker,\n"
                                     "o1,5,Decision Maker,\n",
}


@pytest_asyncio.fixture
async def roles(graph: Graph, tmp_path: Path) -> Graph:
    await import_linked_crm(graph, tmp_path, FILES)
    return graph




def on_deal(value: str, **more: Any) -> dict[str, Any]:
    return {"opportunityRole": {"op": "EQ", "value": value, **more}}


def at_account(op: str, **more: Any) -> dict[str, Any]:
    return {"accountRole": {"op": op, **more}}


CONDITIONS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("a Decision Maker on a deal of their company", on_deal("decision maker"), [ANN, BOB]),
    ("a Decision Maker on an open deal of their company", on_deal("Decision Maker", status="OPEN"), [ANN]),
    ("on a won deal", on_deal("Decision Maker", status="WON"), [BOB]),
    ("on a lost deal", on_deal("Economic Buyer", status="LOST"), [CID]),
    ("a role that nobody has on a lost deal", on_deal("Decision Maker", status="LOST"), []),
    ("roles in a list", {"opportunityRole": {"op": "IN", "values": ["Economic Buyer", "Technical Buyer"]}}, [CID]),
    ("role contains", {"opportunityRole": {"op": "CONTAINS", "value": "maker"}}, [ANN, BOB]),
    ("the account role", at_account("EQ", value="Decision Maker"), [ANN, CID]),
    ("another account role", at_account("STARTS_WITH", value="technical"), [BOB]),
    ("not that account role (no role counts, no account does not)", at_account("NEQ", value="decision maker"),
     [BOB, DEE]),
    ("nobody without an account role", {"not": at_account("EQ", value="Decision Maker")}, [BOB, DEE, EVE]),
    ("both: a Decision Maker at their account and on an open deal",
     {"and": [at_account("EQ", value="Decision Maker"), on_deal("Decision Maker", status="OPEN")]}, [ANN]),
    ("either", {"or": [at_account("EQ", value="Technical Buyer"), on_deal("Economic Buyer")]}, [BOB, CID]),
]


@pytest.mark.parametrize(("rule", "expected"), [(c[1], c[2]) for c in CONDITIONS], ids=[c[0] for c in CONDITIONS])
async def test_each_role_condition_selects_the_hand_computed_people(roles: Graph, rule: dict[str, Any],
                                                                   expected: list[str]) -> None:
    assert await selected(roles, rule) == expected


async def test_the_same_rules_as_graphql_input(roles: Graph) -> None:
    data = await graphql_data(roles, """{ preview(rule: {and: [
        {accountRole: {op: EQ, value: "Decision Maker"}}
        {opportunityRole: {op: EQ, value: "Decision Maker", status: OPEN}}]}) {
          count members { members { email } } } }""")
    assert data["preview"] == {"count": 1, "members": {"members": [{"email": ANN}]}}


async def test_the_explanation_says_which_role_matched_on_which_deal_and_account(roles: Graph) -> None:
    data = await graphql_data(roles, """query ($rule: RuleInput!) { preview(rule: $rule) { members { members {
        email explanation { path kind matched accounts { sourceKey role company { id } }
          contactRoles { role isPrimary person { email }
                         opportunity { sourceKey amount stage isClosed account { sourceKey } } } } } } } }""",
        rule={"and": [at_account("EQ", value="Decision Maker"), on_deal("decision maker")]})
    members = {m["email"]: m["explanation"] for m in data["preview"]["members"]["members"]}
    assert list(members) == [ANN]
    account, deal = members[ANN]
    assert account == {"path": "and[0].accountRole", "kind": "accountRole", "matched": True, "contactRoles": [],
                       "accounts": [{"sourceKey": "A", "role": "Decision Maker", "company": {"id": "CRM 1/A"}}]}
    assert deal == {"path": "and[1].opportunityRole", "kind": "opportunityRole", "matched": True, "accounts": [],
                    "contactRoles": [{"role": "Decision Maker", "isPrimary": True, "person": {"email": ANN},
                                      "opportunity": {"sourceKey": "o2", "amount": 100000.0,
                                                      "stage": "Negotiation/Review", "isClosed": False,
                                                      "account": {"sourceKey": "B"}}}]}


async def test_a_saved_segment_on_a_role_follows_the_deal_when_it_closes(roles: Graph, tmp_path: Path) -> None:
    created = await graphql_data(roles, """mutation { createSegment(name: "Deciders on open deals", rule: {
        opportunityRole: {op: EQ, value: "Decision Maker", status: OPEN}}) { id rule } }""")
    segment = created["createSegment"]
    assert segment["rule"] == {"opportunityRole": {"op": "EQ", "status": "OPEN", "value": "Decision Maker"}}
    evaluate = """mutation ($id: ID!) { evaluateSegment(id: $id) { count enteredPeople leftPeople } }"""
    assert (await graphql_data(roles, evaluate, id=segment["id"]))["evaluateSegment"] == {
        "count": 1, "enteredPeople": [ANN], "leftPeople": []}
    # o2 is won: it is no longer open, so ann leaves.
    (tmp_path / "won").mkdir()
    (tmp_path / "won" / "opportunities.csv").write_text(
        "Id,AccountId,Name,Amount,StageName,CloseDate\no2,B,Service,100000,Closed Won,2026-11-01\n")
    await ingest_path(roles, tmp_path / "won", "CRM 1")
    assert (await graphql_data(roles, evaluate, id=segment["id"]))["evaluateSegment"] == {
        "count": 0, "enteredPeople": [], "leftPeople": [ANN]}


async def test_the_seed_answers_as_docs_segments_md_says(seeded_graph: Graph) -> None:
    """p2 is the Decision Maker at CRM 1's Townsend and on its won fleet deal; p3 an Influencer on the open
    renewal; nobody is a Decision Maker on an open deal."""
    p2, p3 = "p2@townsend.com", "p3@townsend.com"
    assert await selected(seeded_graph, at_account("EQ", value="decision maker")) == [p2]
    assert await selected(seeded_graph, on_deal("Decision Maker")) == [p2]
    assert await selected(seeded_graph, on_deal("Decision Maker", status="OPEN")) == []
    assert await selected(seeded_graph, on_deal("Influencer", status="OPEN")) == [p3]
