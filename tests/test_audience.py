"""The audience rule against a real Neo4j, through the GraphQL schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import ANY

import pytest

from service.database import Graph
from service.ingest.pipeline import ingest_path
from service.segments import presets
from tests import graph_builder as build
from tests.graph_builder import PAGE, days_ago
from tests.helpers import execute_graphql, graphql_data, run_cypher

pytestmark = pytest.mark.asyncio

AUDIENCE = """
query ($min: Float!, $page: String!, $days: Int!) {
  audience(minCompanyWonAmount: $min, visitedPage: $page, withinDays: $days) {
    count
    people { email companyWonTotal accounts { source sourceKey name } visits { url visitedAt } }
  }
}"""


async def audience(graph: Graph, minimum: float = 1_000_000, page: str = PAGE, days: int = 30) -> dict[str, Any]:
    return (await graphql_data(graph, AUDIENCE, min=minimum, page=page, days=days))["audience"]


def emails(result: dict[str, Any]) -> list[str]:
    return [member["email"] for member in result["people"]]


async def test_seed_answer_is_p2_with_the_company_total(seeded_graph: Graph) -> None:
    result = await audience(seeded_graph)
    assert result["count"] == 1
    [member] = result["people"]
    assert member["email"] == "p2@townsend.com"
    assert member["companyWonTotal"] == 1_100_000
    assert {(a["source"], a["sourceKey"]) for a in member["accounts"]} == {
        ("CRM 1", "0011A00001"), ("CRM 2", "0012B00007")}
    assert [v["url"] for v in member["visits"]] == [PAGE]


async def test_without_the_mdm_link_no_one_qualifies(seeded_graph: Graph, tmp_path: Path) -> None:
    removal = tmp_path / "same-company.csv"
    removal.write_text("LinkId,IsDeleted\nMDM-TOWNSEND-0001,true\n")
    await ingest_path(seeded_graph, removal, mdm=True)
    assert (await audience(seeded_graph))["count"] == 0


async def test_a_chain_of_links_is_one_company(graph: Graph) -> None:
    for key in ("A", "B", "C"):
        await build.account(graph, key)
        await build.opportunity(graph, f"opp-{key}", [key], 400_000)
    await build.link(graph, "A", "B")
    await build.link(graph, "C", "B")  # direction does not matter
    await build.person(graph, "a@x.com", ["A"])
    await build.visit(graph, "a@x.com", days_ago(1))
    result = await audience(graph)
    assert emails(result) == ["a@x.com"]
    assert result["people"][0]["companyWonTotal"] == 1_200_000
    # A and B alone (800k) do not pass: the third account of the chain is what lifts it.
    assert (await audience(graph, minimum=1_200_000))["count"] == 0


async def test_open_and_lost_opportunities_do_not_count(graph: Graph) -> None:
    await build.account(graph, "A")
    await build.opportunity(graph, "won", ["A"], 600_000)
    await build.opportunity(graph, "open", ["A"], 900_000, stage="Negotiation/Review")
    await build.opportunity(graph, "lost", ["A"], 900_000, stage="Closed Lost")
    await build.person(graph, "a@x.com", ["A"])
    await build.visit(graph, "a@x.com", days_ago(1))
    assert (await audience(graph))["count"] == 0
    assert (await audience(graph, minimum=500_000))["people"][0]["companyWonTotal"] == 600_000


async def test_a_total_of_exactly_the_threshold_is_excluded(graph: Graph) -> None:
    await build.account(graph, "A")
    await build.opportunity(graph, "won", ["A"], 1_000_000)
    await build.person(graph, "a@x.com", ["A"])
    await build.visit(graph, "a@x.com", days_ago(1))
    assert (await audience(graph, minimum=1_000_000))["count"] == 0
    assert (await audience(graph, minimum=999_999.99))["count"] == 1


async def test_visits_outside_the_window_or_to_other_pages_are_excluded(graph: Graph) -> None:
    await build.account(graph, "A")
    await build.opportunity(graph, "won", ["A"], 2_000_000)
    await build.person(graph, "old@x.com", ["A"])
    await build.visit(graph, "old@x.com", days_ago(31))
    await build.person(graph, "other@x.com", ["A"])
    await build.visit(graph, "other@x.com", days_ago(1), url="https://www.bodea.com/pricing")
    await build.person(graph, "recent@x.com", ["A"])
    await build.visit(graph, "recent@x.com", days_ago(29))
    assert emails(await audience(graph, days=30)) == ["recent@x.com"]
    assert emails(await audience(graph, days=32)) == ["old@x.com", "recent@x.com"]


async def test_a_person_on_several_accounts_appears_once(graph: Graph) -> None:
    for key in ("A", "B"):
        await build.account(graph, key)
        await build.opportunity(graph, f"opp-{key}", [key], 700_000)
    await build.link(graph, "A", "B")
    await build.person(graph, "both@x.com", ["A", "B"])
    await build.visit(graph, "both@x.com", days_ago(2))
    await build.visit(graph, "both@x.com", days_ago(3))
    result = await audience(graph)
    assert result["count"] == 1
    assert emails(result) == ["both@x.com"]
    assert len(result["people"][0]["accounts"]) == 2
    assert len(result["people"][0]["visits"]) == 2


async def test_an_opportunity_on_two_accounts_of_one_company_counts_once(graph: Graph) -> None:
    for key in ("A", "B"):
        await build.account(graph, key)
    await build.link(graph, "A", "B")
    await build.opportunity(graph, "shared", ["A", "B"], 600_000)
    await build.person(graph, "a@x.com", ["A"])
    await build.visit(graph, "a@x.com", days_ago(1))
    assert (await audience(graph, minimum=1_000_000))["count"] == 0
    assert (await audience(graph, minimum=500_000))["people"][0]["companyWonTotal"] == 600_000


async def test_companies_are_kept_apart_without_a_link(graph: Graph) -> None:
    await build.account(graph, "rich")
    await build.opportunity(graph, "big", ["rich"], 5_000_000)
    await build.account(graph, "poor")
    await build.person(graph, "poor@x.com", ["poor"])
    await build.visit(graph, "poor@x.com", days_ago(1))
    assert (await audience(graph))["count"] == 0


@pytest.mark.parametrize(("variables", "message"), [
    ({"min": -1.0, "page": PAGE, "days": 30}, "minCompanyWonAmount"),
    ({"min": 1.0, "page": PAGE, "days": 0}, "withinDays"),
    ({"min": 1.0, "page": PAGE, "days": -5}, "withinDays"),
    ({"min": 1.0, "page": "  ", "days": 30}, "visitedPage"),
])
async def test_bad_arguments_get_a_clear_error(graph: Graph, variables: dict[str, Any], message: str) -> None:
    result = await execute_graphql(graph, AUDIENCE, **variables)
    assert result.errors is not None
    assert message in result.errors[0].message


async def test_person_and_account_lookups(seeded_graph: Graph) -> None:
    data = await graphql_data(seeded_graph, """{
      person(email: " P2@townsend.COM ") {
        email knownAs { source sourceKey }
        accounts { source sourceKey role }
        companies { id wonTotal openPipeline accounts { sourceKey } }
      }
      account(source: "CRM 1", sourceKey: "0011A00001") {
        name company { wonTotal accounts { source sourceKey name } }
      }
      nobody: person(email: "nobody@example.com") { email }
    }""")
    person = data["person"]
    assert person["email"] == "p2@townsend.com"
    assert {(k["source"], k["sourceKey"]) for k in person["knownAs"]} == {
        ("CRM 1", "0031A00002"), ("Marketo 1", "1002"), ("CRM 2", "0032B00007"), ("Marketo 2", "5507")}
    assert len(person["accounts"]) == 2
    [company] = person["companies"]
    assert (company["wonTotal"], company["openPipeline"]) == (1_100_000, 300_000)
    account = data["account"]
    assert account["name"] == "Townsend"
    assert account["company"]["wonTotal"] == 1_100_000
    assert [a["sourceKey"] for a in account["company"]["accounts"]] == ["0011A00001", "0012B00007"]
    assert data["nobody"] is None


async def test_the_count_is_counted_and_a_list_too_long_is_an_error_not_cut_short(
        seeded_graph: Graph, monkeypatch: pytest.MonkeyPatch) -> None:
    """`count` is the true size whatever the list's limit; `people` past the limit says so."""
    await graphql_data(seeded_graph, """mutation ($at: DateTime!, $page: String!) {
        recordWebVisits(source: "Marketo 1", visits: [{id: "p1-visit", personId: "1001", url: $page, visitedAt: $at}])
        { records } }""", at=days_ago(3).isoformat(), page=PAGE)
    monkeypatch.setattr(presets, "MAX_AUDIENCE", 1)
    counted = await graphql_data(seeded_graph, """query ($page: String!) {
        audience(minCompanyWonAmount: 1000000, visitedPage: $page, withinDays: 30) { count } }""", page=PAGE)
    assert counted["audience"]["count"] == 2
    listed = await execute_graphql(seeded_graph, AUDIENCE, min=1_000_000, page=PAGE, days=30)
    assert listed.errors and "the audience has more than 1 people" in listed.errors[0].message
    assert listed.errors[0].extensions == {"code": "VALIDATION_FAILED", "requestId": ANY}


async def test_the_audience_pages_through_its_members(seeded_graph: Graph) -> None:
    await graphql_data(seeded_graph, """mutation ($at: DateTime!, $page: String!) {
        recordWebVisits(source: "Marketo 1", visits: [{id: "p1-visit", personId: "1001", url: $page, visitedAt: $at}])
        { records } }""", at=days_ago(3).isoformat(), page=PAGE)
    query = """query ($page: String!, $after: String) {
        audience(minCompanyWonAmount: 1000000, visitedPage: $page, withinDays: 30) {
          members(first: 1, after: $after) { members { email } endCursor hasNextPage } } }"""
    first = (await graphql_data(seeded_graph, query, page=PAGE, after=None))["audience"]["members"]
    assert [m["email"] for m in first["members"]] == ["p1@townsend.com"] and first["hasNextPage"]
    second = (await graphql_data(seeded_graph, query, page=PAGE, after=first["endCursor"]))["audience"]["members"]
    assert [m["email"] for m in second["members"]] == ["p2@townsend.com"] and not second["hasNextPage"]


# A generated audience larger than MAX_AUDIENCE, its size known by construction.
COUNTED = presets.MAX_AUDIENCE + 500
OLD_VISITORS, OTHER_PAGE_VISITORS, POOR_COMPANY_VISITORS = 300, 200, 100
PEOPLE_PER_STATEMENT = 20_000
GENERATED_PEOPLE = """
MATCH (a:Account {source: 'CRM 1', sourceKey: $account})
UNWIND range($first, $last) AS n
CREATE (p:Person {email: $prefix + n + '@big.example'})-[:ASSOCIATED_WITH {source: 'CRM 1'}]->(a)
CREATE (p)-[:VISITED {source: 'Marketo 1'}]->(:WebVisit {source: 'Marketo 1', sourceKey: $prefix + n, url: $url,
                                                         visitedAt: datetime() - duration({days: $daysAgo})})"""

REMOVED_PEOPLE = """
MATCH (p:Person) WHERE p.email ENDS WITH '@big.example'
CALL (p) { OPTIONAL MATCH (p)-[:VISITED]->(v:WebVisit) DETACH DELETE p, v } IN TRANSACTIONS OF 20000 ROWS"""


async def remove_generated_people(graph: Graph) -> None:
    """In transactions of their own (so in an auto-commit session): the next test's wipe is one."""
    async with graph.driver.session(database=graph.database) as session:
        await (await session.run(REMOVED_PEOPLE)).consume()


async def generated_people(graph: Graph, prefix: str, how_many: int, account: str, url: str = PAGE,
                           age_days: int = 1) -> None:
    """`how_many` people, contacts of `account`, each with one visit to `url` `age_days` days ago."""
    for first in range(1, how_many + 1, PEOPLE_PER_STATEMENT):
        await run_cypher(graph, GENERATED_PEOPLE, first=first, last=min(how_many, first + PEOPLE_PER_STATEMENT - 1),
                         prefix=prefix, account=account, url=url, daysAgo=age_days)


async def test_an_audience_of_more_than_the_list_limit_is_counted_exactly_and_pages(graph: Graph) -> None:
    """Issue 12: `count` is the true size above MAX_AUDIENCE (counted, not a list's length), the
    one-list answer refuses, and the members page with hasNextPage."""
    try:
        await _check_an_audience_of_more_than_the_list_limit(graph)
    finally:
        await remove_generated_people(graph)


async def _check_an_audience_of_more_than_the_list_limit(graph: Graph) -> None:
    await build.account(graph, "big")
    await build.opportunity(graph, "big-won", ["big"], 2_000_000)
    await build.account(graph, "poor")
    await build.opportunity(graph, "poor-won", ["poor"], 500_000)
    await generated_people(graph, "in", COUNTED, "big")
    await generated_people(graph, "old", OLD_VISITORS, "big", age_days=31)
    await generated_people(graph, "elsewhere", OTHER_PAGE_VISITORS, "big", url="https://www.bodea.com/pricing")
    await generated_people(graph, "poor", POOR_COMPANY_VISITORS, "poor")
    [built] = await run_cypher(graph, "RETURN COUNT { (:Person) } AS people, COUNT { (:WebVisit) } AS visits")
    assert built == {"people": COUNTED + 600, "visits": COUNTED + 600}

    query = """query ($page: String!) {
        audience(minCompanyWonAmount: 1000000, visitedPage: $page, withinDays: 30) {
          count members(first: 5) { members { email } hasNextPage } } }"""
    answer = (await graphql_data(graph, query, page=PAGE))["audience"]
    assert answer["count"] == COUNTED == 100_500
    assert len(answer["members"]["members"]) == 5 and answer["members"]["hasNextPage"]
    first_five = sorted(f"in{n}@big.example" for n in range(1, COUNTED + 1))[:5]  # in email order
    assert [m["email"] for m in answer["members"]["members"]] == first_five

    listed = await execute_graphql(graph, """query ($page: String!) {
        audience(minCompanyWonAmount: 1000000, visitedPage: $page, withinDays: 30) { people { email } } }""",
                                   page=PAGE)
    assert listed.errors and "the audience has more than 100,000 people" in listed.errors[0].message
    assert listed.errors[0].extensions == {"code": "VALIDATION_FAILED", "requestId": ANY}
