"""The rule language against a real Neo4j: each condition, combinations, saved segments, history."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from service.database import Graph
from service.ingest.pipeline import ingest_path
from tests.helpers import NEAR_MISS_PATTERN, NEAR_MISS_URL, PREVIEW, execute_graphql, graphql_data, selected
from tests.snapshot import snapshot

pytestmark = pytest.mark.asyncio

NEW = "https://x.example/new"


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def world_files() -> dict[str, str]:
    return {
        "accounts.csv": "Id,Name,Industry,BillingCountry,NumberOfEmployees\n"
                        "A,Acme,Automotive,Germany,5000\nB,Acme GmbH,Automotive,Germany,200\nC,Beta,Retail,France,50\n",
        "opportunities.csv": "Id,AccountId,Name,Amount,StageName,CloseDate\n"
                             "o1,A,Fleet,500000,Closed Won,2026-03-01\n"
                             "o2,A,Lost one,200000,Closed Lost,2026-02-01\n"
                             "o3,B,Printers,700000,Closed Won,2025-12-01\n"
                             "o4,B,Service,100000,Negotiation/Review,2027-01-01\n"
                             "o5,C,Small,50000,Closed Won,2026-04-01\n",
        "people.csv": "Id,Email,Title\n1,ann@acme.example,CTO\n2,bob@acme.example,Buyer\n3,cid@beta.example,CEO\n"
                      "4,dee@beta.example,\n5,eve@gmail.example,\n",
        "account-people.csv": "AccountId,PersonId\nA,1\nB,2\nC,3\nC,4\n",
        "web-visits.csv": "Id,PersonId,Url,VisitedAt\n"
                          f"v1,1,{NEW},{ago(2)}\nv2,1,{NEW},{ago(5)}\nv3,2,https://x.example/pricing,{ago(3)}\n"
                          f"v4,3,{NEW},{ago(40)}\nv5,4,https://x.example/docs/a,{ago(1)}\nv6,4,https://x.example/docs/b,{ago(1)}\n",
        "campaigns.csv": "Id,Name\nK1,Launch\n",
        "campaign-members.csv": "CampaignId,PersonId,Status\nK1,1,Attended\nK1,3,Registered\n",
        "lists.csv": "Id,Name\nL1,VIP\n",
        "list-members.csv": "ListId,PersonId\nL1,2\nL1,5\n",
    }


@pytest_asyncio.fixture
async def world(graph: Graph, tmp_path: Path) -> Graph:
    """Acme (accounts A~B, $1.2M won) and Beta (C, $50k won), five people, visits, a campaign, a list."""
    folder = tmp_path / "crm"
    folder.mkdir()
    for name, text in world_files().items():
        (folder / name).write_text(text)
    await ingest_path(graph, folder, "CRM 1")
    (tmp_path / "same-company.csv").write_text("LinkId,SourceA,AccountIdA,SourceB,AccountIdB\nM1,CRM 1,A,CRM 1,B\n")
    await ingest_path(graph, tmp_path / "same-company.csv", mdm=True)
    return graph


async def errors(graph: Graph, query: str, **variables: Any) -> list[str]:
    result = await execute_graphql(graph, query, **variables)
    return [error.message for error in result.errors or []]




def opportunities(op: str, value: float, **more: Any) -> dict[str, Any]:
    return {"opportunities": {"op": op, "value": value, **more}}


CONDITIONS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("company won sum", opportunities("GT", 1_000_000), ["ann@acme.example", "bob@acme.example"]),
    ("won sum at the threshold", opportunities("GT", 1_200_000), []),
    ("won sum from a close date", opportunities("GT", 400_000, closedAfter="2026-01-01"),
     ["ann@acme.example", "bob@acme.example"]),
    ("won sum in a window too high", opportunities("GT", 600_000, closedAfter="2026-01-01"), []),
    ("count of all opportunities", opportunities("GTE", 4, aggregate="COUNT", status="ANY"),
     ["ann@acme.example", "bob@acme.example"]),
    ("largest open", opportunities("GTE", 100_000, aggregate="MAX", status="OPEN"),
     ["ann@acme.example", "bob@acme.example"]),
    ("lost sum", opportunities("GT", 0, status="LOST"), ["ann@acme.example", "bob@acme.example"]),
    ("stages", opportunities("GTE", 1, aggregate="COUNT", status="ANY", stages=["Negotiation/Review"]),
     ["ann@acme.example", "bob@acme.example"]),
    ("small company sum", opportunities("LT", 100_000), ["cid@beta.example", "dee@beta.example"]),
    ("title contains", {"person": {"field": "TITLE", "op": "CONTAINS", "value": "ct"}}, ["ann@acme.example"]),
    ("title not equal (no title counts)", {"person": {"field": "TITLE", "op": "NEQ", "value": "cto"}},
     ["bob@acme.example", "cid@beta.example", "dee@beta.example", "eve@gmail.example"]),
    ("email domain", {"person": {"field": "EMAIL_DOMAIN", "op": "EQ", "value": "Beta.Example"}},
     ["cid@beta.example", "dee@beta.example"]),
    ("email in", {"person": {"field": "EMAIL", "op": "IN", "values": ["eve@gmail.example", "x@y.z"]}},
     ["eve@gmail.example"]),
    ("own account name", {"account": {"scope": "ACCOUNT", "field": "NAME", "op": "CONTAINS", "value": "gmbh"}},
     ["bob@acme.example"]),
    ("company account name", {"account": {"field": "NAME", "op": "CONTAINS", "value": "gmbh"}},
     ["ann@acme.example", "bob@acme.example"]),
    ("own account size", {"account": {"scope": "ACCOUNT", "field": "EMPLOYEES", "op": "GT", "number": 1000}},
     ["ann@acme.example"]),
    ("company size", {"account": {"field": "EMPLOYEES", "op": "GT", "number": 1000}},
     ["ann@acme.example", "bob@acme.example"]),
    ("country in", {"account": {"field": "COUNTRY", "op": "IN", "values": ["France", "Spain"]}},
     ["cid@beta.example", "dee@beta.example"]),
    ("visited in 30 days", {"visits": {"url": NEW, "withinDays": 30}}, ["ann@acme.example"]),
    ("visited twice", {"visits": {"url": NEW, "withinDays": 30, "minCount": 2}}, ["ann@acme.example"]),
    ("visited three times", {"visits": {"url": NEW, "minCount": 3}}, []),
    ("visited in 60 days", {"visits": {"url": NEW, "withinDays": 60}}, ["ann@acme.example", "cid@beta.example"]),
    ("visited before a date", {"visits": {"url": NEW, "before": ago(20)}}, ["cid@beta.example"]),
    ("url prefix", {"visits": {"url": "https://x.example/docs/", "match": "PREFIX"}}, ["dee@beta.example"]),
    ("url pattern", {"visits": {"url": "https://x.example/*/b", "match": "PATTERN"}}, ["dee@beta.example"]),
    ("pattern dots are literal", {"visits": {"url": "https://x.example/docs.a", "match": "PATTERN"}}, []),
    ("campaign", {"campaign": {"source": "CRM 1", "id": "K1"}}, ["ann@acme.example", "cid@beta.example"]),
    ("campaign status", {"campaign": {"source": "CRM 1", "id": "K1", "status": "attended"}}, ["ann@acme.example"]),
    ("campaign of another source", {"campaign": {"source": "CRM 2", "id": "K1"}}, []),
    ("list", {"list": {"source": "CRM 1", "id": "L1"}}, ["bob@acme.example", "eve@gmail.example"]),
    ("and", {"and": [opportunities("GT", 1_000_000), {"visits": {"url": NEW, "withinDays": 30}}]},
     ["ann@acme.example"]),
    ("or", {"or": [{"list": {"source": "CRM 1", "id": "L1"}}, {"campaign": {"source": "CRM 1", "id": "K1"}}]},
     ["ann@acme.example", "bob@acme.example", "cid@beta.example", "eve@gmail.example"]),
    ("not", {"not": {"list": {"source": "CRM 1", "id": "L1"}}},
     ["ann@acme.example", "cid@beta.example", "dee@beta.example"]),
    ("nested", {"and": [{"or": [{"account": {"field": "INDUSTRY", "op": "EQ", "value": "retail"}},
                                opportunities("GT", 1_000_000)]},
                        {"not": {"person": {"field": "TITLE", "op": "IN", "values": ["ceo", "cto"]}}}]},
     ["bob@acme.example", "dee@beta.example"]),
]


@pytest.mark.parametrize(("rule", "expected"), [(c[1], c[2]) for c in CONDITIONS], ids=[c[0] for c in CONDITIONS])
async def test_each_condition_selects_the_hand_computed_people(world: Graph, rule: dict[str, Any],
                                                              expected: list[str]) -> None:
    assert await selected(world, rule) == expected


async def test_the_explanation_shows_the_company_total_and_the_visits(world: Graph) -> None:
    data = await graphql_data(world, """query ($rule: RuleInput!) { preview(rule: $rule) { members { members {
        email explanation { path kind matched
          companies { companyId value matched accounts { sourceKey } company { wonTotal } }
          visits { url } } } } } }""",
        rule={"and": [opportunities("GT", 1_000_000), {"visits": {"url": NEW, "withinDays": 30}}]})
    [ann] = data["preview"]["members"]["members"]
    assert ann["email"] == "ann@acme.example"
    money, visits = ann["explanation"]
    assert (money["path"], money["kind"], money["matched"]) == ("and[0].opportunities", "opportunities", True)
    assert money["companies"] == [{"companyId": "CRM 1/A", "value": 1_200_000, "matched": True,
                                   "accounts": [{"sourceKey": "A"}], "company": {"wonTotal": 1_200_000}}]
    assert (visits["path"], visits["matched"], visits["visits"]) == ("and[1].visits", True,
                                                                     [{"url": NEW}, {"url": NEW}])


async def test_members_page_with_a_cursor_and_the_account_audience(world: Graph) -> None:
    rule = {"not": {"person": {"field": "EMAIL", "op": "EQ", "value": "nobody@x.example"}}}
    query = """query ($rule: RuleInput!, $after: String) { preview(rule: $rule) {
        members(first: 2, after: $after) { members { email } endCursor hasNextPage }
        companies { companyId members company { wonTotal } } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = (await graphql_data(world, query, rule=rule, after=after))["preview"]
        seen += [m["email"] for m in page["members"]["members"]]
        after = page["members"]["endCursor"]
        if not page["members"]["hasNextPage"]:
            break
    assert seen == ["ann@acme.example", "bob@acme.example", "cid@beta.example", "dee@beta.example", "eve@gmail.example"]
    assert page["companies"] == [{"companyId": "CRM 1/A", "members": 2, "company": {"wonTotal": 1_200_000}},
                                 {"companyId": "CRM 1/C", "members": 2, "company": {"wonTotal": 50_000}}]
    too_many = await errors(world, "query ($rule: RuleInput!) { "
                                   "preview(rule: $rule) { members(first: 501) { endCursor } } }", rule=rule)
    assert any("first: must be from 1 to 500" in message for message in too_many)


@pytest.mark.parametrize(("rule", "message"), [
    ({}, "must have exactly one of"),
    ({"and": []}, "and: must be a non-empty list"),
    ({"person": {"field": "TITLE", "op": "GT", "value": "x"}}, "person.op: must be one of"),
    ({"account": {"field": "EMPLOYEES", "op": "GT"}}, "account.number: must be a finite number"),
    ({"visits": {"url": NEW, "withinDays": 0}}, "visits.withinDays: must be a whole number from 1 to 3660"),
    ({"or": [{"visits": {"url": " "}}]}, "or[0].visits.url: must be a non-empty string"),
    ({"and": [opportunities("GT", 1), {"person": {"field": "EMAIL", "op": "IN"}}]}, "and[1].person.values"),
    ({"segment": {"id": "no-such-segment"}}, "no saved segment with id 'no-such-segment'"),
    ({"and": [{"person": {"field": "EMAIL", "op": "EQ", "value": "a"}},
              {"person": {"field": "EMAIL", "op": "EQ", "value": "a"}}],
      "or": [{"list": {"source": "s", "id": "i"}}]}, "must have exactly one of"),
])
async def test_an_invalid_rule_says_which_part_is_wrong(world: Graph, rule: dict[str, Any], message: str) -> None:
    found = await errors(world, PREVIEW, rule=rule)
    assert found and any(message in m for m in found), found


HOSTILE = ["' OR 1=1 //", "`) DETACH DELETE n //", "\"}) MATCH (n) DETACH DELETE n RETURN 1 //", "$r0", "x\\u0027 })",
           "*/ MATCH (n) DETACH DELETE n /*", "\u0000", "ann@acme.example' OR 'a'='a"]


def hostile_rules(text: str) -> list[dict[str, Any]]:
    return [
        {"person": {"field": "EMAIL", "op": "EQ", "value": text}},
        {"person": {"field": "TITLE", "op": "IN", "values": [text, text + "2"]}},
        {"account": {"field": "NAME", "op": "STARTS_WITH", "value": text}},
        opportunities("GT", 0, stages=[text]),
        {"visits": {"url": text}},
        {"visits": {"url": text, "match": "PATTERN"}},
        {"visits": {"url": text, "match": "PREFIX"}},
        {"campaign": {"source": text, "id": text, "status": text}},
        {"list": {"source": text, "id": text}},
    ]


@pytest.mark.parametrize("text", HOSTILE)
async def test_hostile_strings_in_every_field_change_nothing(world: Graph, text: str) -> None:
    before = await snapshot(world)
    for rule in hostile_rules(text):
        result = await execute_graphql(world, PREVIEW, rule=rule)
        if result.errors:
            assert all(":" in error.message for error in result.errors), result.errors  # a clear, located error
        else:
            assert result.data["preview"]["count"] == 0, rule  # type: ignore[index]
    found = await errors(world, PREVIEW, rule={"segment": {"id": text}})
    assert found and "no saved segment" in found[0]
    assert await snapshot(world) == before


CREATE = ("mutation ($name: String!, $rule: RuleInput!) { "
          'createSegment(name: $name, rule: $rule, description: "d") { id name rule } }')
EVALUATE = """mutation ($id: ID!) { evaluateSegment(id: $id) { count entered left enteredPeople leftPeople } }"""


async def test_saved_segments_build_on_each_other_without_cycles(world: Graph) -> None:
    vip = (await graphql_data(world, CREATE, name="VIP",
                              rule={"list": {"source": "CRM 1", "id": "L1"}}))["createSegment"]
    assert vip["rule"] == {"list": {"id": "L1", "source": "CRM 1"}}
    acme_vip = (await graphql_data(world, CREATE, name="Acme VIP", rule={"and": [
        {"segment": {"id": vip["id"]}}, {"account": {"field": "NAME", "op": "EQ", "value": "acme"}}]}))["createSegment"]
    data = await graphql_data(world, "query ($id: ID!) { segment(id: $id) { "
                                     "name now { count members { members { email } } } } }", id=acme_vip["id"])
    assert data["segment"]["now"]["members"]["members"] == [{"email": "bob@acme.example"}]
    cycle = await errors(world, "mutation ($id: ID!, $rule: RuleInput!) { updateSegment(id: $id, rule: $rule) { id } }",
                         id=vip["id"], rule={"segment": {"id": acme_vip["id"]}})
    assert cycle and "may not refer to themselves" in cycle[0]
    same_name = await errors(world, CREATE, name="VIP", rule={"list": {"source": "CRM 1", "id": "L1"}})
    assert same_name and "exists already" in same_name[0]
    in_use = await errors(world, """mutation ($id: ID!) { deleteSegment(id: $id) }""", id=vip["id"])
    assert in_use and "used by Acme VIP" in in_use[0]
    assert (await graphql_data(world, """mutation ($id: ID!) { deleteSegment(id: $id) }""",
                               id=acme_vip["id"]))["deleteSegment"] is True
    assert [s["name"] for s in (await graphql_data(world, "{ segments { name } }"))["segments"]] == ["VIP"]


async def test_membership_history_follows_data_changes(world: Graph, tmp_path: Path) -> None:
    segment = (await graphql_data(world, CREATE, name="Recent visitors",
                                  rule={"visits": {"url": NEW, "withinDays": 30}}))["createSegment"]
    first = (await graphql_data(world, EVALUATE, id=segment["id"]))["evaluateSegment"]
    assert first == {"count": 1, "entered": 1, "left": 0, "enteredPeople": ["ann@acme.example"], "leftPeople": []}
    unchanged = (await graphql_data(world, EVALUATE, id=segment["id"]))["evaluateSegment"]
    assert (unchanged["entered"], unchanged["left"]) == (0, 0)

    (tmp_path / "web-visits.csv").write_text(
        f"Id,PersonId,Url,VisitedAt,IsDeleted\nv9,2,{NEW},{ago(1)},\nv1,,,,true\nv2,,,,true\n")
    await ingest_path(world, tmp_path / "web-visits.csv", "CRM 1")
    changed = (await graphql_data(world, EVALUATE, id=segment["id"]))["evaluateSegment"]
    assert changed == {"count": 1, "entered": 1, "left": 1, "enteredPeople": ["bob@acme.example"],
                       "leftPeople": ["ann@acme.example"]}

    people = await graphql_data(world, """{
        ann: person(email: "ann@acme.example") { segments { segmentName } segmentHistory { segmentName change } }
        bob: person(email: "bob@acme.example") { segments { segmentName since } } }""")
    assert people["ann"]["segments"] == []
    assert people["ann"]["segmentHistory"] == [{"segmentName": "Recent visitors", "change": "LEFT"},
                                               {"segmentName": "Recent visitors", "change": "ENTERED"}]
    assert people["bob"]["segments"][0]["segmentName"] == "Recent visitors"
    history = await graphql_data(world, "query ($id: ID!) { segment(id: $id) { "
                                        "memberCount evaluations { count entered left } } }", id=segment["id"])
    assert history["segment"]["memberCount"] == 1
    assert [(e["entered"], e["left"]) for e in history["segment"]["evaluations"]] == [(1, 1), (0, 0), (1, 0)]
    assert json.loads(json.dumps(segment["rule"])) == {"visits": {"url": NEW, "withinDays": 30}}


async def test_saved_segment_members_are_the_stored_membership_paged_in_email_order(world: Graph) -> None:
    rule = {"account": {"field": "NAME", "op": "EQ", "value": "acme"}}
    expected = [m["email"] for m in (await graphql_data(world, PREVIEW, rule=rule))["preview"]["members"]["members"]]
    assert len(expected) >= 2
    segment = (await graphql_data(world, CREATE, name="Acme people", rule=rule))["createSegment"]
    page_query = """query ($id: ID!, $after: String) { segment(id: $id) {
        members(first: 1, after: $after) { people { email knownAs { source } } endCursor hasNextPage } } }"""
    before = (await graphql_data(world, page_query, id=segment["id"]))["segment"]["members"]
    assert before == {"people": [], "endCursor": None, "hasNextPage": False}  # not evaluated yet: nobody stored

    await graphql_data(world, EVALUATE, id=segment["id"])
    seen: list[str] = []
    after = None
    while True:
        page = (await graphql_data(world, page_query, id=segment["id"], after=after))["segment"]["members"]
        seen += [person["email"] for person in page["people"]]
        assert all(person["knownAs"] for person in page["people"])
        if not page["hasNextPage"]:
            break
        after = page["endCursor"]
    assert seen == sorted(expected)
    too_many = await errors(world, """query ($id: ID!) { segment(id: $id) { members(first: 501) { endCursor } } }""",
                            id=segment["id"])
    assert too_many and "first" in too_many[0]


async def test_a_near_miss_pattern_is_answered_at_once_by_neo4j(world: Graph, tmp_path: Path) -> None:
    (tmp_path / "web-visits.csv").write_text(f"Id,PersonId,Url,VisitedAt\nlong,5,{NEAR_MISS_URL},{ago(1)}\n")
    await ingest_path(world, tmp_path / "web-visits.csv", "CRM 1")
    started = time.monotonic()
    assert await selected(world, {"visits": {"url": NEAR_MISS_PATTERN, "match": "PATTERN"}}) == []
    assert await selected(world, {"visits": {"url": "*a*a*a*a*a*a*a*a*a", "match": "PATTERN"}}) == ["eve@gmail.example"]
    assert time.monotonic() - started < 10
