"""The audience explorer (/explorer): the fields it reads (member search, explanations of chosen members,
deliveries of one segment), its page served open under a strict CSP, and the page itself in headless
Chromium against the real service and the Townsend seed: it lists the saved segments, draws p2's
explanation with the 1,100,000 and both accounts, and shows the segment's activation.

Screenshots go to test-artifacts/ (explorer.png, explorer-account-audience.png)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Page

from service.config import PROJECT_ROOT
from service.database import Graph
from service.explorer import CONTENT_SECURITY_POLICY
from service.queries import Mode
from tests.helpers import ARTIFACTS, ApiKeys, graphql_data
from tests.test_graphiql_browser import TIMEOUT_MS, chromium, loopback_only

RULE: dict[str, Any] = json.loads((PROJECT_ROOT / "seed/townsend/segments/townsend-top-customers.json").read_text())
ACCOUNT_RULE: dict[str, Any] = {"opportunities": {"aggregate": "SUM", "status": "WON", "op": "GT", "value": 1000000}}
SEGMENT_NAME = "Townsend top customers"
ACCOUNT_AUDIENCE_NAME = "Million-dollar customers"


@pytest_asyncio.fixture
async def townsend(seeded_graph: Graph, exports: Path) -> AsyncIterator[dict[str, str]]:
    """The seed with the Townsend segment saved, evaluated twice and activated to LinkedIn (which evaluates
    it again), and an account audience of the companies with more than 1,000,000 won, evaluated: the
    segment ids by name."""
    data = await graphql_data(seeded_graph, """mutation ($rule: RuleInput!, $accounts: RuleInput!) {
        people: createSegment(name: "Townsend top customers", rule: $rule) { id }
        companies: createSegment(name: "Million-dollar customers", rule: $accounts, subject: COMPANY) { id }
        addDestination(name: "LinkedIn", kind: LINKEDIN) { name } }""", rule=RULE, accounts=ACCOUNT_RULE)
    people, companies = data["people"]["id"], data["companies"]["id"]
    evaluate = "mutation ($id: ID!) { evaluateSegment(id: $id) { count } }"
    for _ in range(2):
        await graphql_data(seeded_graph, evaluate, id=people)
    await graphql_data(seeded_graph, evaluate, id=companies)
    await graphql_data(seeded_graph, """mutation ($id: ID!) {
        activate(segmentId: $id, destination: "LinkedIn") { sent } }""", id=people)
    yield {SEGMENT_NAME: people, ACCOUNT_AUDIENCE_NAME: companies}


def _data(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == 200 and not body.get("errors"), body
    data: dict[str, Any] = body["data"]
    return data


MEMBERS = """query ($id: ID!, $search: String) {
  segment(id: $id) { members(first: 10, search: $search) { people { email } hasNextPage } } }"""


@pytest.mark.asyncio
async def test_members_are_searched_by_email_text_or_company_id(townsend: dict[str, str],
                                                                client: httpx.Client) -> None:
    segment = townsend[SEGMENT_NAME]

    def emails(search: str | None) -> list[str]:
        data = _data(client.post("/graphql", json={"query": MEMBERS, "variables": {"id": segment, "search": search}}))
        return [p["email"] for p in data["segment"]["members"]["people"]]

    assert emails(None) == ["p2@townsend.com"]
    assert emails("  ") == ["p2@townsend.com"]  # blank: every member
    assert emails("P2@Townsend") == ["p2@townsend.com"]  # email text, case aside
    assert emails("p3") == []  # p3 is not a member (their visit is too old)
    assert emails("CRM 1/0011A00001") == ["p2@townsend.com"]  # the company's id
    assert emails("CRM 2/0012B00007") == []  # an account's id that is not the company's

@pytest.mark.asyncio
async def test_account_audience_companies_are_searched_by_id_or_account_name(townsend: dict[str, str],
                                                                             client: httpx.Client) -> None:
    query = """query ($id: ID!, $search: String) {
      segment(id: $id) { companies(search: $search) { companies { id } } } }"""

    def ids(search: str | None) -> list[str]:
        variables = {"id": townsend[ACCOUNT_AUDIENCE_NAME], "search": search}
        data = _data(client.post("/graphql", json={"query": query, "variables": variables}))
        return [c["id"] for c in data["segment"]["companies"]["companies"]]

    assert ids(None) == ["CRM 1/0011A00001"]
    assert ids("townsend inc") == ["CRM 1/0011A00001"]  # the name of its CRM 2 account
    assert ids("crm 1/0011") == ["CRM 1/0011A00001"]
    assert ids("Acme") == []


EXPLAIN = """query ($id: ID!, $emails: [String!]!) {
  segment(id: $id) { now { explain(emails: $emails) { email explanation { path kind matched
    companies { companyId value matched deals { source sourceKey amount }
                company { accounts { source sourceKey name } } }
    visits { source sourceKey url } } } } } }"""


@pytest.mark.asyncio
async def test_explain_gives_the_evidence_of_chosen_people_members_or_not(townsend: dict[str, str],
                                                                          client: httpx.Client) -> None:
    variables = {"id": townsend[SEGMENT_NAME], "emails": ["P2@townsend.com", "p3@townsend.com", "nobody@example.com"]}
    data = _data(client.post("/graphql", json={"query": EXPLAIN, "variables": variables}))
    rows = {row["email"]: row["explanation"] for row in data["segment"]["now"]["explain"]}
    assert set(rows) == {"p2@townsend.com", "p3@townsend.com"}  # nobody@example.com is not in the graph

    figure, visits = rows["p2@townsend.com"]
    assert (figure["path"], figure["kind"], figure["matched"]) == ("and[0].opportunities", "opportunities", True)
    [company] = figure["companies"]
    assert company["value"] == 1_100_000
    assert sorted(d["amount"] for d in company["deals"]) == [200_000, 900_000]
    assert {(a["source"], a["sourceKey"], a["name"]) for a in company["company"]["accounts"]} == {
        ("CRM 1", "0011A00001", "Townsend"), ("CRM 2", "0012B00007", "Townsend Inc.")}
    assert visits["matched"] and [v["url"] for v in visits["visits"]] == ["https://www.bodea.com/products/new-product"]
    # p3 is explained too: the same company figure holds, the visit condition does not.
    assert [e["matched"] for e in rows["p3@townsend.com"]] == [True, False]


@pytest.mark.asyncio
async def test_explain_is_refused_for_the_other_subject_and_past_its_limit(townsend: dict[str, str],
                                                                           client: httpx.Client) -> None:
    wrong = client.post("/graphql", json={"query": """query ($id: ID!) { segment(id: $id) { now {
        explain(emails: ["p2@townsend.com"]) { email } } } }""", "variables": {"id": townsend[ACCOUNT_AUDIENCE_NAME]}})
    assert "this rule selects companies" in wrong.json()["errors"][0]["message"]
    accounts = _data(client.post("/graphql", json={"query": """query ($id: ID!) { segment(id: $id) { now {
        explainAccounts(companyIds: ["CRM 1/0011A00001"]) {
          companyId explanation { matched companies { value } } } } } }""",
        "variables": {"id": townsend[ACCOUNT_AUDIENCE_NAME]}}))
    [row] = accounts["segment"]["now"]["explainAccounts"]
    assert row["companyId"] == "CRM 1/0011A00001"
    assert row["explanation"][0]["matched"] and row["explanation"][0]["companies"][0]["value"] == 1_100_000
    many = client.post("/graphql", json={"query": EXPLAIN, "variables": {
        "id": townsend[SEGMENT_NAME], "emails": [f"p{i}@example.com" for i in range(101)]}})
    assert "at most 100" in many.json()["errors"][0]["message"]
    bad = client.post("/graphql", json={"query": EXPLAIN,
                                        "variables": {"id": townsend[SEGMENT_NAME], "emails": ["p2"]}})
    assert "emails: 'p2' is not an email address" in bad.json()["errors"][0]["message"]


@pytest.mark.asyncio
async def test_deliveries_of_one_segment(townsend: dict[str, str], seeded_graph: Graph,
                                         client: httpx.Client) -> None:
    """deliveries(segmentId) keeps only that segment's (one queued here as the outbox would)."""
    await seeded_graph.run_adhoc("""
        UNWIND [[$a, 'one'], [$b, 'two']] AS pair
        CREATE (:Delivery {id: pair[1], segmentId: pair[0], destination: 'Hook', status: 'PENDING', position: 1,
                           emails: ['p2@townsend.com'], attempts: 0, delivered: 0, createdAt: datetime()})""",
                                 Mode.WRITE, a=townsend[SEGMENT_NAME], b=townsend[ACCOUNT_AUDIENCE_NAME])
    query = "query ($id: ID) { deliveries(segmentId: $id) { id segment } }"
    one = _data(client.post("/graphql", json={"query": query, "variables": {"id": townsend[SEGMENT_NAME]}}))
    assert one["deliveries"] == [{"id": "one", "segment": SEGMENT_NAME}]
    every = _data(client.post("/graphql", json={"query": query, "variables": {"id": None}}))
    assert {d["id"] for d in every["deliveries"]} == {"one", "two"}


def test_the_page_and_its_files_are_open_under_a_strict_policy(live_server: str) -> None:
    with httpx.Client(base_url=live_server, timeout=30) as http:  # no key
        page = http.get("/explorer")
        assert page.status_code == 200
        assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "default-src 'none'" in CONTENT_SECURITY_POLICY
        assert ".cache/dev-api-key" in page.text and "make run" in page.text
        assert "<script>" not in page.text and "style=" not in page.text  # nothing inline: the policy forbids it
        script = http.get("/explorer/assets/explorer.js")
        assert script.status_code == 200 and script.headers["content-type"].startswith("application/javascript")
        assert http.get("/explorer/assets/explorer.css").status_code == 200
        assert http.get("/explorer/assets/..%2Fservice%2Fapp.py").status_code == 404
        assert http.get("/explorer/assets/explorer.html").status_code == 404
        assert http.post("/graphql", json={"query": "{ segments { id } }"}).status_code == 401


# ---- In headless Chromium ----------------------------------------------------------------------------

async def _open(page: Page, live_server: str, key: str) -> None:
    await page.goto(f"{live_server}/explorer", timeout=TIMEOUT_MS)
    await page.locator("#status").filter(has_text="Put your API key").wait_for(timeout=TIMEOUT_MS)
    await page.fill("#key", key)
    await page.click("#key-form button[type=submit]")
    await page.locator(".segment-item").first.wait_for(timeout=TIMEOUT_MS)


@pytest.mark.browser
@pytest.mark.asyncio
async def test_the_explorer_draws_p2s_explanation(live_server: str, townsend: dict[str, str],
                                                  api_keys: ApiKeys) -> None:
    blocked: list[str] = []
    problems: list[str] = []

    async with chromium() as browser:
        context = await browser.new_context(viewport={"width": 1600, "height": 1000})
        try:
            await context.route("**/*", loopback_only(blocked))
            page = await context.new_page()
            page.on("pageerror", lambda error: problems.append(str(error)))
            # A CSP violation is reported on the console: the page must cause none.
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

            # A key that is not valid is refused with the API's message, and nothing is listed.
            await page.goto(f"{live_server}/explorer", timeout=TIMEOUT_MS)
            await page.fill("#key", "ag_not_a_key")
            await page.click("#key-form button[type=submit]")
            await page.locator("#status.error").wait_for(timeout=TIMEOUT_MS)
            assert "not valid" in await page.locator("#status").inner_text()
            problems.clear()  # the browser logs the 401 itself

            await page.evaluate("() => { sessionStorage.clear(); localStorage.clear(); }")
            await _open(page, live_server, api_keys.admin)
            items = page.locator(".segment-item")
            assert await items.count() == 2
            townsend_item = items.filter(has_text=SEGMENT_NAME)
            text = await townsend_item.inner_text()
            assert "People" in text and "1" in text
            # One point per evaluation: the two here and the activation's.
            assert await townsend_item.locator("svg.sparkline circle").count() == 3
            assert "Account audience" in await items.filter(has_text=ACCOUNT_AUDIENCE_NAME).inner_text()

            await townsend_item.click()
            member = page.locator(".member").filter(has_text="p2@townsend.com")
            await member.wait_for(timeout=TIMEOUT_MS)
            assert await page.locator(".member").count() == 1
            await page.locator("#activations table").wait_for(timeout=TIMEOUT_MS)
            activations = await page.locator("#activations").inner_text()
            assert "LinkedIn" in activations and "linkedin-matched-audience.csv" in activations

            await member.click()
            svg = page.locator("#explanation-svg")
            await svg.wait_for(timeout=TIMEOUT_MS)
            drawn = await svg.text_content() or ""
            assert "p2@townsend.com" in drawn
            assert "1,100,000 > 1,000,000" in drawn and "sum of won deals" in drawn and "passes" in drawn
            for label in ("Townsend", "Townsend Inc.", "CRM 1 · 0011A00001", "CRM 2 · 0012B00007"):
                assert label in drawn, label
            assert "900,000" in drawn and "200,000" in drawn  # the two deals behind the sum
            assert "https://www.bodea.com/products/new-product" in drawn and "7 days ago" in drawn
            # Each deal's and account's record is in its tooltip too.
            tooltips = await svg.locator("g.node > title").all_text_contents()
            assert any("Source: CRM 2" in t and "Amount: 900,000" in t for t in tooltips), tooltips

            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "explorer.png"), full_page=True)

            # Searching: a text no member has lists none; p2's company id finds p2 again.
            await page.fill("#search", "nobody")
            await page.click("#search-form button")
            await page.locator("#member-list").filter(has_text="No member matches").wait_for(timeout=TIMEOUT_MS)
            await page.fill("#search", "CRM 1/0011A00001")
            await page.click("#search-form button")
            await member.wait_for(timeout=TIMEOUT_MS)

            # The account audience: its company, explained from the company itself.
            await items.filter(has_text=ACCOUNT_AUDIENCE_NAME).click()
            company = page.locator(".member").filter(has_text="CRM 1/0011A00001")
            await company.wait_for(timeout=TIMEOUT_MS)
            await company.click()
            await page.locator("#explanation-svg").filter(has_text="1,100,000").wait_for(timeout=TIMEOUT_MS)
            await page.screenshot(path=str(ARTIFACTS / "explorer-account-audience.png"), full_page=True)

            # The key is kept for the tab across a reload (in local storage only when asked).
            await page.reload()
            await page.locator(".segment-item").first.wait_for(timeout=TIMEOUT_MS)
            assert await page.evaluate("() => localStorage.length") == 0
        finally:
            await context.close()

    assert blocked == [], f"the page tried to reach beyond this service: {blocked}"
    assert problems == [], problems
