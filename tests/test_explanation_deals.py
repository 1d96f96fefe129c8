"""The member explanation lists the deals behind each company figure: largest first, at most
MAX_EXPLAINED_DEALS, with how many there are, so "which deals make up $1,100,000" has an answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from service.database import Graph
from service.ingest.pipeline import ingest_path
from service.segments.compiler import MAX_EXPLAINED_DEALS
from tests.helpers import SEED_DIR, graphql_data, run_cypher

pytestmark = pytest.mark.asyncio

EXPLAIN = """query ($rule: RuleInput!) { preview(rule: $rule) { members { members { email explanation {
  kind matched companies { companyId value matched dealCount moreDeals
    deals { source sourceKey name amount stage closeDate account { sourceKey } } } } } } } }"""


async def explained(graph: Graph, rule: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each member's companies, as the explanation of the rule's first condition reports them."""
    data = await graphql_data(graph, EXPLAIN, rule=rule)
    return {m["email"]: m["explanation"][0]["companies"] for m in data["preview"]["members"]["members"]}


async def test_the_deals_behind_the_townsend_total_are_listed(seeded_graph: Graph) -> None:
    rule = json.loads((SEED_DIR / "segments" / "townsend-top-customers.json").read_text())
    companies = await explained(seeded_graph, rule)
    assert list(companies) == ["p2@townsend.com"]
    [townsend] = companies["p2@townsend.com"]
    sources = {row["key"]: row["source"] for row in await run_cypher(
        seeded_graph, "MATCH (o:Opportunity) RETURN o.sourceKey AS key, o.source AS source")}
    assert (townsend["value"], townsend["matched"], townsend["dealCount"], townsend["moreDeals"]) == (
        1_100_000.0, True, 2, 0)
    # The two closed-won deals, largest first; the open 300,000 renewal is not behind this figure.
    assert townsend["deals"] == [
        {"source": sources["0062B00011"], "sourceKey": "0062B00011", "name": "Opportunity 2: 3D printer line",
         "amount": 900_000.0, "stage": "Closed Won", "closeDate": "2026-08-15", "account": {"sourceKey": "0012B00007"}},
        {"source": sources["0061A00001"], "sourceKey": "0061A00001", "name": "Opportunity 1: fleet software",
         "amount": 200_000.0, "stage": "Closed Won", "closeDate": "2026-06-30", "account": {"sourceKey": "0011A00001"}},
    ]
    assert sum(deal["amount"] for deal in townsend["deals"]) == townsend["value"]


@pytest_asyncio.fixture
async def many_deals(graph: Graph, tmp_path: Path) -> Graph:
    """One account with twelve won deals of 1,000 to 12,000, a lost one of 50,000 and an open one of 20,000."""
    folder = tmp_path / "crm"
    folder.mkdir()
    won = "".join(f"d{k:02},A,Deal {k},{k * 1000},Closed Won,2026-01-{k:02}\n" for k in range(1, 13))
    (folder / "accounts.csv").write_text("Id,Name\nA,Acme\n")
    (folder / "opportunities.csv").write_text("Id,AccountId,Name,Amount,StageName,CloseDate\n" + won
                                              + "d13,A,Lost,50000,Closed Lost,2026-02-01\n"
                                              + "d14,A,Open,20000,Prospecting,2027-02-01\n")
    (folder / "people.csv").write_text("Id,Email\n1,ann@acme.example\n")
    (folder / "account-people.csv").write_text("AccountId,PersonId\nA,1\n")
    await ingest_path(graph, folder, "CRM 1")
    return graph


def deal_keys(company: dict[str, Any]) -> list[str]:
    return [deal["sourceKey"] for deal in company["deals"]]


async def test_the_list_is_capped_largest_first_with_the_count_of_the_rest(many_deals: Graph) -> None:
    assert MAX_EXPLAINED_DEALS == 10
    [acme] = (await explained(many_deals, {"opportunities": {"op": "GT", "value": 0}}))["ann@acme.example"]
    assert acme["value"] == sum(k * 1000 for k in range(1, 13)) == 78_000
    assert deal_keys(acme) == [f"d{k:02}" for k in range(12, 2, -1)]  # d12 (12,000) down to d03 (3,000)
    assert (acme["dealCount"], acme["moreDeals"]) == (12, 2)


@pytest.mark.parametrize(("condition", "value", "first_keys", "count"), [
    ({"aggregate": "MAX", "op": "GT", "value": 0}, 12_000, ["d12", "d11"], 12),
    ({"aggregate": "COUNT", "status": "ANY", "op": "GT", "value": 0}, 14, ["d13", "d14", "d12"], 14),
    ({"status": "LOST", "op": "GTE", "value": 0}, 50_000, ["d13"], 1),
    ({"stages": ["Prospecting"], "status": "ANY", "op": "GTE", "value": 0}, 20_000, ["d14"], 1),
    ({"closedBefore": "2026-01-03", "op": "GT", "value": 0}, 3_000, ["d02", "d01"], 2),
])
async def test_the_deals_listed_are_those_the_condition_takes(many_deals: Graph, condition: dict[str, Any],
                                                              value: float, first_keys: list[str], count: int) -> None:
    [acme] = (await explained(many_deals, {"opportunities": condition}))["ann@acme.example"]
    assert acme["value"] == value
    assert deal_keys(acme)[:len(first_keys)] == first_keys
    assert (acme["dealCount"], len(acme["deals"]), acme["moreDeals"]) == (
        count, min(count, MAX_EXPLAINED_DEALS), max(0, count - MAX_EXPLAINED_DEALS))


async def test_a_company_whose_figure_fails_still_shows_its_deals(many_deals: Graph) -> None:
    """Inside `not`, the explanation says why the member is in: the deals that did not reach the figure."""
    data = await graphql_data(many_deals, EXPLAIN, rule={"not": {"opportunities": {
        "status": "LOST", "op": "GT", "value": 100_000}}})
    [ann] = data["preview"]["members"]["members"]
    [evidence] = ann["explanation"]
    [acme] = evidence["companies"]
    assert (evidence["matched"], acme["matched"], acme["value"], deal_keys(acme)) == (False, False, 50_000, ["d13"])
