"""Every deal visible: Opportunity, ContactRole, Campaign and MarketingList in GraphQL, a company's
deals a page at a time by status, and the per-request DataLoaders behind them (one query per field
whatever the number of parents), against a real Neo4j with data imported as a user would."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from service.database import Graph
from service.ingest.pipeline import ingest_path
from service.queries import Q
from tests.helpers import execute_graphql, graphql_data, import_linked_crm, run_cypher

pytestmark = pytest.mark.asyncio

ACME = "CRM 1/A"
BETA = "CRM 1/C"

FILES = {
    "accounts.csv": "Id,Name,Industry,BillingCountry\nA,Acme,Automotive,Germany\nB,Acme GmbH,Automotive,Germany\n"
                    "C,Beta,Retail,France\n",
    "opportunities.csv": "Id,AccountId,Name,Amount,CurrencyIsoCode,StageName,CloseDate\n"
                         "o1,A,Fleet,500000,EUR,Closed Won,2026-03-01\n"
                         "o2,A,Lost one,200000,EUR,Closed Lost,2026-02-01\n"
                         "o3,B,Printers,700000,EUR,Closed Won,2025-12-01\n"
                         "o4,B,Service,100000,EUR,Negotiation/Review,2027-01-01\n"
                         "o5,B,Tie with o1,500000,EUR,Prospecting,2027-02-01\n"
                         "o6,A,No amount yet,1,EUR,Prospecting,2027-03-01\n"
                         "o7,C,Small,50000,EUR,Closed Won,2026-04-01\n",
    "people.csv": "Id,Email,FirstName,LastName,Title\n1,ann@acme.example,Ann,A,CTO\n2,bob@acme.example,Bob,B,Buyer\n"
                  "3,cid@beta.example,Cid,C,CEO\n",
    "account-people.csv": "AccountId,PersonId,Role\nA,1,Decision Maker\nB,2,Technical Buyer\nC,3,\n",
    "opportunity-contact-roles.csv": "OpportunityId,PersonId,Role,IsPrimary\no3,2,Technical Buyer,false\n"
                                     "o3,1,Decision Maker,true\no1,1,Economic Buyer,\n",
    "campaigns.csv": "Id,Name,Type,Status,StartDate\nK1,Launch,Webinar,Completed,2026-05-01\nK2,Empty,Email,,\n",
    "campaign-members.csv": "CampaignId,PersonId,Status\nK1,3,Registered\nK1,1,Attended\nK1,2,Sent\n",
    "lists.csv": "Id,Name\nL1,VIP\n",
    "list-members.csv": "ListId,PersonId\nL1,2\nL1,3\n",
}


@pytest_asyncio.fixture
async def deals(graph: Graph, tmp_path: Path) -> Graph:
    """Acme (accounts A and B, joined by MDM) with six deals, Beta (C) with one; three people."""
    await import_linked_crm(graph, tmp_path, FILES)
    # An amount is required by the import; a deal without one (written before that rule) sorts last.
    await run_cypher(graph, "MATCH (o:Opportunity {sourceKey: 'o6'}) REMOVE o.amount")
    return graph


PAGE = """query ($id: ID!, $status: OpportunityStatus!, $first: Int!, $after: String) {
  company(id: $id) { opportunities(status: $status, first: $first, after: $after) {
    totalCount endCursor hasNextPage opportunities { sourceKey amount } } } }"""


async def page(graph: Graph, status: str, first: int = 50, after: str | None = None,
               company: str = ACME) -> dict[str, Any]:
    data = await graphql_data(graph, PAGE, id=company, status=status, first=first, after=after)
    result: dict[str, Any] = data["company"]["opportunities"]
    return result


def keys(result: dict[str, Any]) -> list[str]:
    return [o["sourceKey"] for o in result["opportunities"]]


# Acme's deals, largest first, a tie (o1 and o5 at 500,000) by source then key, no amount last.
ALL_IN_ORDER = ["o3", "o1", "o5", "o2", "o4", "o6"]


@pytest.mark.parametrize(("status", "expected"), [
    ("ANY", ALL_IN_ORDER),
    ("WON", ["o3", "o1"]),
    ("LOST", ["o2"]),
    ("OPEN", ["o5", "o4", "o6"]),
])
async def test_a_company_lists_the_deals_of_all_its_accounts_by_status(deals: Graph, status: str,
                                                                      expected: list[str]) -> None:
    result = await page(deals, status)
    assert keys(result) == expected
    assert result["totalCount"] == len(expected)
    assert result["hasNextPage"] is False


async def test_pages_follow_each_other_in_order_with_the_total_on_every_page(deals: Graph) -> None:
    first = await page(deals, "ANY", first=2)
    assert (keys(first), first["totalCount"], first["hasNextPage"]) == (["o3", "o1"], 6, True)
    second = await page(deals, "ANY", first=2, after=first["endCursor"])
    assert (keys(second), second["totalCount"], second["hasNextPage"]) == (["o5", "o2"], 6, True)
    third = await page(deals, "ANY", first=2, after=second["endCursor"])
    assert (keys(third), third["totalCount"], third["hasNextPage"]) == (["o4", "o6"], 6, False)
    # One at a time crosses every boundary: the tie on amount, and from amounts to none.
    seen, after = [], None
    while True:
        one = await page(deals, "ANY", first=1, after=after)
        seen += keys(one)
        after = one["endCursor"]
        if not one["hasNextPage"]:
            break
    assert seen == ALL_IN_ORDER
    # After the last one, an empty page.
    assert await page(deals, "ANY", first=1, after=after) == {"totalCount": 6, "endCursor": None,
                                                              "hasNextPage": False, "opportunities": []}


async def test_a_page_stays_in_place_when_a_deal_is_added_before_it(deals: Graph, tmp_path: Path) -> None:
    first = await page(deals, "WON", first=1)
    assert keys(first) == ["o3"]
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "opportunities.csv").write_text(
        "Id,AccountId,Name,Amount,StageName,CloseDate\no9,A,Biggest,900000,Closed Won,2026-06-01\n")
    await ingest_path(deals, tmp_path / "more", "CRM 1")
    after = await page(deals, "WON", first=5, after=first["endCursor"])
    assert (keys(after), after["totalCount"]) == (["o1"], 3)


async def test_an_opportunity_has_its_fields_its_account_and_its_contact_roles(deals: Graph) -> None:
    data = await graphql_data(deals, """{ company(id: "CRM 1/A") { opportunities(status: WON, first: 1) {
        opportunities { source sourceKey name amount currency stage isWon isClosed closeDate knownAs { source }
                        account { source sourceKey name company { id wonTotal } }
                        contactRoles { role isPrimary person { email firstName title } opportunity { sourceKey } } }
        } } }""")
    [o3] = data["company"]["opportunities"]["opportunities"]
    assert o3 == {
        "source": "CRM 1", "sourceKey": "o3", "name": "Printers", "amount": 700000.0, "currency": "EUR",
        "stage": "Closed Won", "isWon": True, "isClosed": True, "closeDate": "2025-12-01",
        "knownAs": [{"source": "CRM 1"}],
        "account": {"source": "CRM 1", "sourceKey": "B", "name": "Acme GmbH",
                    "company": {"id": ACME, "wonTotal": 1_200_000.0}},
        "contactRoles": [  # primary first, then by email
            {"role": "Decision Maker", "isPrimary": True,
             "person": {"email": "ann@acme.example", "firstName": "Ann", "title": "CTO"},
             "opportunity": {"sourceKey": "o3"}},
            {"role": "Technical Buyer", "isPrimary": False,
             "person": {"email": "bob@acme.example", "firstName": "Bob", "title": "Buyer"},
             "opportunity": {"sourceKey": "o3"}},
        ],
    }


async def test_a_person_has_contact_roles_campaigns_and_lists(deals: Graph) -> None:
    data = await graphql_data(deals, """{
      ann: person(email: "ann@acme.example") {
        contactRoles { role isPrimary person { email } opportunity { sourceKey amount account { sourceKey } } }
        campaigns { status person { email } campaign { source sourceKey name type status startDate } }
        lists { marketingList { sourceKey } } }
      bob: person(email: "bob@acme.example") { lists { marketingList { source sourceKey name } person { email } } }
    }""")
    assert data["ann"]["contactRoles"] == [  # largest deal first
        {"role": "Decision Maker", "isPrimary": True, "person": {"email": "ann@acme.example"},
         "opportunity": {"sourceKey": "o3", "amount": 700000.0, "account": {"sourceKey": "B"}}},
        {"role": "Economic Buyer", "isPrimary": False, "person": {"email": "ann@acme.example"},
         "opportunity": {"sourceKey": "o1", "amount": 500000.0, "account": {"sourceKey": "A"}}},
    ]
    assert data["ann"]["campaigns"] == [{
        "status": "Attended", "person": {"email": "ann@acme.example"},
        "campaign": {"source": "CRM 1", "sourceKey": "K1", "name": "Launch", "type": "Webinar", "status": "Completed",
                     "startDate": "2026-05-01"}}]
    assert data["ann"]["lists"] == []
    assert data["bob"]["lists"] == [{"marketingList": {"source": "CRM 1", "sourceKey": "L1", "name": "VIP"},
                                     "person": {"email": "bob@acme.example"}}]


MEMBERS = """query ($first: Int!, $after: String) {
  campaign(source: "CRM 1", sourceKey: "K1") { name members(first: $first, after: $after) {
    totalCount endCursor hasNextPage members { status person { email } campaign { sourceKey } } } }
  marketingList(source: "CRM 1", sourceKey: "L1") { name members(first: $first, after: $after) {
    totalCount hasNextPage members { person { email } marketingList { sourceKey } } } } }"""


async def test_campaign_and_list_members_page_in_email_order(deals: Graph) -> None:
    first = await graphql_data(deals, MEMBERS, first=2, after=None)
    campaign, listed = first["campaign"], first["marketingList"]
    assert campaign["name"] == "Launch" and listed["name"] == "VIP"
    assert campaign["members"]["members"] == [
        {"status": "Attended", "person": {"email": "ann@acme.example"}, "campaign": {"sourceKey": "K1"}},
        {"status": "Sent", "person": {"email": "bob@acme.example"}, "campaign": {"sourceKey": "K1"}}]
    assert (campaign["members"]["totalCount"], campaign["members"]["hasNextPage"]) == (3, True)
    assert listed["members"] == {"totalCount": 2, "hasNextPage": False, "members": [
        {"person": {"email": "bob@acme.example"}, "marketingList": {"sourceKey": "L1"}},
        {"person": {"email": "cid@beta.example"}, "marketingList": {"sourceKey": "L1"}}]}
    rest = await graphql_data(deals, MEMBERS, first=2, after=campaign["members"]["endCursor"])
    assert rest["campaign"]["members"]["members"] == [
        {"status": "Registered", "person": {"email": "cid@beta.example"}, "campaign": {"sourceKey": "K1"}}]
    assert (rest["campaign"]["members"]["totalCount"], rest["campaign"]["members"]["hasNextPage"]) == (3, False)


async def test_an_unknown_campaign_or_list_is_null_and_an_empty_one_has_no_members(deals: Graph) -> None:
    data = await graphql_data(deals, """{ campaign(source: "CRM 2", sourceKey: "K1") { name }
        marketingList(source: "CRM 1", sourceKey: "nope") { name }
        empty: campaign(source: "CRM 1", sourceKey: "K2") { name status startDate members { totalCount members {
          status } hasNextPage endCursor } } }""")
    assert data == {"campaign": None, "marketingList": None, "empty": {
        "name": "Empty", "status": None, "startDate": None,
        "members": {"totalCount": 0, "members": [], "hasNextPage": False, "endCursor": None}}}


@pytest.mark.parametrize(("arguments", "message"), [
    ('first: 0', "first: must be from 1 to 500"),
    ('first: 501', "first: must be from 1 to 500"),
    ('after: "bm90IGpzb24="', "after: not a cursor returned by this API"),
    ('after: "WzEsIDJd"', "after: not a cursor returned by this API"),  # [1, 2]: not (amount, source, key)
    ('after: "%%%"', "after: not a cursor returned by this API"),
])
async def test_a_wrong_page_argument_is_refused_with_the_reason(deals: Graph, arguments: str, message: str) -> None:
    query = f'{{ company(id: "{ACME}") {{ opportunities({arguments}) {{ totalCount }} }} }}'
    result = await execute_graphql(deals, query)
    assert [(error.message, (error.extensions or {}).get("code")) for error in result.errors or []] == [
        (message, "VALIDATION_FAILED")]


async def test_nested_fields_take_one_query_each_whatever_the_number_of_parents(
        deals: Graph, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both companies' deals, every deal's contact roles, every contact's person fields: one query per
    loader, not one per company or per deal."""
    ran: Counter[str] = Counter()
    original = deals.run

    async def counting(query: Q, **parameters: Any) -> list[dict[str, Any]]:
        ran[query.value] += 1
        return await original(query, **parameters)

    # On the instance, as tests/test_access.py patches it: a patch of the class would not reach an
    # instance that an earlier test's monkeypatch left holding its bound method.
    monkeypatch.setattr(deals, "run", counting)
    data = await graphql_data(deals, """{
      acme: company(id: "CRM 1/A") { won: opportunities(status: WON) { opportunities { sourceKey
        knownAs { source } account { sourceKey } contactRoles { role person { email } } } }
        open: opportunities(status: OPEN, first: 2) { totalCount } }
      beta: company(id: "CRM 1/C") { won: opportunities(status: WON) { opportunities { sourceKey
        knownAs { source } account { sourceKey } contactRoles { role } } } }
      ann: person(email: "ann@acme.example") { contactRoles { opportunity { sourceKey } } campaigns { status }
        lists { marketingList { name } } }
      bob: person(email: "bob@acme.example") { contactRoles { opportunity { sourceKey } } campaigns { status }
        lists { marketingList { name } } } }""")
    assert [o["sourceKey"] for o in data["acme"]["won"]["opportunities"]] == ["o3", "o1"]
    assert [o["sourceKey"] for o in data["beta"]["won"]["opportunities"]] == ["o7"]
    assert data["acme"]["open"]["totalCount"] == 3
    assert ran[Q.OPPORTUNITIES_OF_COMPANIES] == 1  # three pages of two companies
    assert ran[Q.CONTACT_ROLES_OF_OPPORTUNITIES] == ran[Q.ACCOUNTS_OF_OPPORTUNITIES] == 1  # three deals
    assert ran[Q.KEYS_OF_OPPORTUNITIES] == 1
    assert ran[Q.CONTACT_ROLES_OF_PEOPLE] == ran[Q.CAMPAIGNS_OF_PEOPLE] == ran[Q.LISTS_OF_PEOPLE] == 1


async def test_the_deals_behind_the_townsend_total_page_from_the_person(seeded_graph: Graph) -> None:
    """The seed's Marketo instances hold synced copies of the CRMs' deals: each deal is listed once, its
    identity the CRM's, known to both sources, with the CRM's amount (the system of record's)."""
    data = await graphql_data(seeded_graph, """{ person(email: "p2@townsend.com") { companies { wonTotal
        won: opportunities(status: WON) { totalCount hasNextPage opportunities { source sourceKey amount isWon
          knownAs { source sourceKey } } }
        open: opportunities(status: OPEN) { totalCount opportunities { sourceKey amount isClosed } } } } }""")
    [townsend] = data["person"]["companies"]
    assert townsend["won"] == {"totalCount": 2, "hasNextPage": False, "opportunities": [
        {"source": "CRM 2", "sourceKey": "0062B00011", "amount": 900_000.0, "isWon": True,
         "knownAs": [{"source": "CRM 2", "sourceKey": "0062B00011"},
                     {"source": "Marketo 2", "sourceKey": "mk2-opp-0001"}]},
        {"source": "CRM 1", "sourceKey": "0061A00001", "amount": 200_000.0, "isWon": True,
         "knownAs": [{"source": "CRM 1", "sourceKey": "0061A00001"},
                     {"source": "Marketo 1", "sourceKey": "mk1-opp-0001"}]},
    ]}
    assert sum(o["amount"] for o in townsend["won"]["opportunities"]) == townsend["wonTotal"] == 1_100_000
    # Marketo 2's stale copy says 250,000; CRM 2, the system of record, says 300,000.
    assert townsend["open"] == {"totalCount": 1, "opportunities": [
        {"sourceKey": "0062B00012", "amount": 300_000.0, "isClosed": False}]}
