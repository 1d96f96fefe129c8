"""Account audiences: rules on companies, saved, evaluated, explained and live, against the real Neo4j.

The Townsend seed plus two companies written here, answers computed by hand:

- Townsend (CRM 1/0011A00001): accounts in CRM 1 and CRM 2 (MDM), Automotive, United States; won
  200,000 (closed 2026-06-30) and 900,000 (2026-08-15), an open renewal; p1 (visit 4 days ago), p2
  (CTO, Decision Maker, visit 7 days ago), p3 (visit 42 days ago).
- Townsend Holdings (CRM 1/0011A00009): Townsend's parent; won 500,000 (2026-05-15); nobody.
- Acme (CRM 1/A-ACME): Retail, Germany; won 50,000 (2026-05-01); a1 (VP Sales) and a2.
- Globex (CRM 1/G-GLOBEX): Manufacturing, France; won 2,000,000 (2026-09-01); nobody.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from service.database import Graph
from service.realtime import feed
from service.realtime.broker import AudienceChange, Broker
from service.realtime.live import LiveAudiences
from service.segments import engine
from tests.helpers import ago, execute_graphql, graphql_data, save_segment, selected

pytestmark = pytest.mark.asyncio

TOWNSEND, HOLDINGS, ACME, GLOBEX = "CRM 1/0011A00001", "CRM 1/0011A00009", "CRM 1/A-ACME", "CRM 1/G-GLOBEX"
TOWNSEND_PEOPLE = ["p1@townsend.com", "p2@townsend.com", "p3@townsend.com"]
SITE = "https://www.bodea.com/"
ACCOUNTS = """query ($rule: RuleInput!) { preview(rule: $rule, subject: COMPANY) {
  count accounts(first: 100) { members { companyId explanation { path kind matched peopleCount
    people { email } companies { companyId value accounts { name } } } } } } }"""
CREATE = """mutation ($n: String!, $r: RuleInput!) {
  createSegment(name: $n, rule: $r, subject: COMPANY) { id subject } }"""


async def two_more_companies(graph: Graph) -> None:
    await graphql_data(graph, """mutation {
      upsertAccounts(source: "CRM 1", accounts: [
        {id: "A-ACME", name: "Acme", industry: "Retail", billingCountry: "Germany"},
        {id: "G-GLOBEX", name: "Globex", industry: "Manufacturing", billingCountry: "France"}]) { records }
      upsertOpportunities(source: "CRM 1", opportunities: [
        {id: "O-ACME", accountId: "A-ACME", name: "Tills", amount: 50000, stageName: "Closed Won",
         closeDate: "2026-05-01"},
        {id: "O-GLOBEX", accountId: "G-GLOBEX", name: "Plant", amount: 2000000, stageName: "Closed Won",
         closeDate: "2026-09-01"}]) { records }
      upsertPeople(source: "CRM 1", people: [{id: "P-A1", email: "a1@acme.example", title: "VP Sales"},
                                             {id: "P-A2", email: "a2@acme.example", title: "Clerk"}]) { records }
      upsertAccountPeople(source: "CRM 1", links: [{accountId: "A-ACME", personId: "P-A1"},
                                                  {accountId: "A-ACME", personId: "P-A2"}]) { records }
    }""")


async def visit(graph: Graph, person_id: str, days_ago: float) -> None:
    await graphql_data(graph, """mutation ($v: [WebVisitInput!]!) { recordWebVisits(source: "CRM 1", visits: $v) {
        records } }""", v=[{"id": f"visit-{person_id}", "personId": person_id, "url": SITE + "pricing",
                            "visitedAt": ago(days=days_ago)}])


async def companies(graph: Graph, rule: dict[str, Any]) -> list[str]:
    """The company ids an account audience's rule selects (preview), after checking its count agrees."""
    preview = (await graphql_data(graph, ACCOUNTS, rule=rule))["preview"]
    ids = [m["companyId"] for m in preview["accounts"]["members"]]
    assert preview["count"] == len(ids)
    return ids


async def save_audience(graph: Graph, name: str, rule: dict[str, Any]) -> str:
    created = (await graphql_data(graph, CREATE, n=name, r=rule))["createSegment"]
    assert created["subject"] == "COMPANY"
    await engine.evaluate(graph, created["id"])
    return str(created["id"])


def company_changes(changes: list[AudienceChange], segment_id: str) -> list[tuple[str | None, str]]:
    return sorted((c.company_id, c.change) for c in changes if c.segment_id == segment_id)


async def test_conditions_of_every_kind_on_a_company(seeded_graph: Graph) -> None:
    await two_more_companies(seeded_graph)
    won = {"opportunities": {"op": "GT", "value": 1_000_000}}
    assert await companies(seeded_graph, won) == [TOWNSEND, GLOBEX]
    # Filtered deals are summed at query time: won and closed after July, under a million (Holdings' and
    # Acme's deals closed before: 0).
    assert await companies(seeded_graph, {"opportunities": {"op": "LT", "value": 1_000_000, "closedAfter": "2026-07-01",
                                                            "status": "WON"}}) == [TOWNSEND, HOLDINGS, ACME]
    assert await companies(seeded_graph, {"and": [
        {"opportunities": {"op": "GT", "value": 0, "closedAfter": "2026-07-01"}},
        {"opportunities": {"op": "LT", "value": 1_000_000, "closedAfter": "2026-07-01"}}]}) == [TOWNSEND]
    # Townsend's three deals, each once though both Marketo instances hold copies of them.
    assert await companies(seeded_graph, {"opportunities": {"op": "EQ", "value": 3, "aggregate": "COUNT",
                                                            "status": "ANY"}}) == [TOWNSEND]
    # Firmographics, over all of a company's accounts.
    assert await companies(seeded_graph, {"account": {"field": "INDUSTRY", "op": "EQ", "value": "retail"}}) == [ACME]
    assert await companies(seeded_graph, {"account": {"field": "NAME", "op": "EQ", "value": "Townsend Inc."}}) == [
        TOWNSEND]  # the CRM 2 account's name: the company has both
    assert await companies(seeded_graph, {"not": {"account": {"field": "COUNTRY", "op": "EQ",
                                                              "value": "United States"}}}) == [ACME, GLOBEX]
    # Its corporate family: Holdings' family is itself and Townsend (500,000 + 1,100,000); Townsend's, itself.
    family_won = {"op": "GT", "value": 1_500_000}
    assert await companies(seeded_graph, {"opportunities": {"scope": "FAMILY", **family_won}}) == [HOLDINGS, GLOBEX]
    assert await companies(seeded_graph, {"opportunities": {"scope": "ULTIMATE", **family_won}}) == [
        TOWNSEND, HOLDINGS, GLOBEX]  # Townsend's ultimate parent is Holdings
    assert await companies(seeded_graph, {"account": {"scope": "FAMILY", "field": "NAME", "op": "EQ",
                                                      "value": "Townsend"}}) == [TOWNSEND, HOLDINGS]
    assert await companies(seeded_graph, {"account": {"field": "NAME", "op": "EQ", "value": "Townsend Holdings"}}) == [
        HOLDINGS]
    assert await companies(seeded_graph, {"account": {"scope": "ULTIMATE", "field": "NAME", "op": "EQ",
                                                      "value": "Townsend Holdings"}}) == [TOWNSEND, HOLDINGS]
    # Its people: how many, with which titles or roles, what they did.
    assert await companies(seeded_graph, {"people": {"minCount": 3}}) == [TOWNSEND]
    assert await companies(seeded_graph, {"people": {"minCount": 2}}) == [TOWNSEND, ACME]
    assert await companies(seeded_graph, {"people": {"where": {"person": {"field": "TITLE", "op": "STARTS_WITH",
                                                                          "value": "vp"}}}}) == [ACME]
    assert await companies(seeded_graph, {"people": {"where": {"accountRole": {"op": "EQ",
                                                                               "value": "Decision Maker"}}}}) == [
        TOWNSEND]
    engaged = {"visits": {"url": SITE, "match": "PREFIX", "withinDays": 30}}
    assert await companies(seeded_graph, {"people": {"minCount": 2, "where": engaged}}) == [TOWNSEND]  # p1, p2
    assert await companies(seeded_graph, {"people": {"minCount": 3, "where": engaged}}) == []  # p3's is 42 days old
    assert await companies(seeded_graph, {"people": {"minCount": 3, "where": {
        "visits": {"url": SITE, "match": "PREFIX", "withinDays": 60}}}}) == [TOWNSEND]
    # The buying group, and no people at all.
    assert await companies(seeded_graph, {"buyingGroup": {"minRoles": 4}}) == [TOWNSEND]
    assert await companies(seeded_graph, {"and": [won, {"not": {"people": {"minCount": 1}}}]}) == [GLOBEX]


async def test_an_account_audience_explains_each_company(seeded_graph: Graph) -> None:
    await two_more_companies(seeded_graph)
    engaged = {"visits": {"url": SITE, "match": "PREFIX", "withinDays": 30}}
    rule = {"and": [{"opportunities": {"op": "GT", "value": 1_000_000}}, {"people": {"minCount": 2, "where": engaged}}]}
    preview = (await graphql_data(seeded_graph, ACCOUNTS, rule=rule))["preview"]
    [member] = preview["accounts"]["members"]
    assert member["companyId"] == TOWNSEND
    deals, people = member["explanation"]
    assert (deals["path"], deals["kind"], deals["matched"]) == ("and[0].opportunities", "opportunities", True)
    # With the figure, every account of the company (a person's explanation lists the person's own).
    assert deals["companies"] == [{"companyId": TOWNSEND, "value": 1_100_000.0,
                                   "accounts": [{"name": "Townsend"}, {"name": "Townsend Inc."}]}]
    assert (people["path"], people["kind"], people["matched"], people["peopleCount"]) == (
        "and[1].people", "people", True, 2)
    assert people["people"] == [{"email": "p1@townsend.com"}, {"email": "p2@townsend.com"}]


async def test_a_person_segment_over_an_account_audience_and_the_reverse(seeded_graph: Graph) -> None:
    await two_more_companies(seeded_graph)
    big = await save_audience(seeded_graph, "Big accounts", {"opportunities": {"op": "GT", "value": 1_000_000}})
    # People at a company in the audience: Globex is in it too, but has nobody.
    assert await selected(seeded_graph, {"segment": {"id": big}}) == TOWNSEND_PEOPLE
    assert await selected(seeded_graph, {"and": [{"segment": {"id": big}},
                                                 {"person": {"field": "TITLE", "op": "EQ", "value": "cto"}}]}) == [
        "p2@townsend.com"]
    ctos = await save_segment(seeded_graph, "CTOs", {"person": {"field": "TITLE", "op": "EQ", "value": "CTO"}})
    vps = await save_segment(seeded_graph, "VPs", {"person": {"field": "TITLE", "op": "STARTS_WITH", "value": "VP"}})
    # Companies with someone in a person segment; and how many of their people are in it.
    assert await companies(seeded_graph, {"segment": {"id": ctos}}) == [TOWNSEND]
    assert await companies(seeded_graph, {"or": [{"segment": {"id": ctos}}, {"segment": {"id": vps}}]}) == [
        TOWNSEND, ACME]
    assert await companies(seeded_graph, {"people": {"minCount": 2, "where": {"segment": {"id": ctos}}}}) == []
    # An account audience over an account audience, over a person segment.
    with_cto = await save_audience(seeded_graph, "With a CTO", {"segment": {"id": ctos}})
    assert await companies(seeded_graph, {"and": [{"segment": {"id": big}}, {"segment": {"id": with_cto}}]}) == [
        TOWNSEND]
    # A person segment over that: three levels of subjects, each on its own variable.
    assert await selected(seeded_graph, {"segment": {"id": with_cto}}) == TOWNSEND_PEOPLE
    # An audience may not refer to itself through a person segment.
    loop = await save_segment(seeded_graph, "At a CTO company", {"segment": {"id": with_cto}})
    result = await execute_graphql(seeded_graph, """mutation ($id: ID!, $r: RuleInput!) {
        updateSegment(id: $id, rule: $r) { id } }""", id=with_cto, r={"segment": {"id": loop}})
    assert result.errors and "may not refer to themselves" in result.errors[0].message


async def test_a_saved_audience_keeps_its_companies_history_and_why(seeded_graph: Graph) -> None:
    await two_more_companies(seeded_graph)
    before = datetime.now(UTC)
    big = await save_audience(seeded_graph, "Big accounts", {"opportunities": {"op": "GT", "value": 1_000_000}})
    data = await graphql_data(seeded_graph, """query ($id: ID!) { segment(id: $id) { subject memberCount
        companies(first: 1) { companies { id wonTotal } endCursor hasNextPage }
        evaluations { count enteredCompanies leftCompanies enteredPeople } } }""", id=big)
    segment = data["segment"]
    assert (segment["subject"], segment["memberCount"]) == ("COMPANY", 2)
    assert segment["companies"]["companies"] == [{"id": TOWNSEND, "wonTotal": 1_100_000.0}]
    assert segment["companies"]["hasNextPage"] is True
    assert segment["evaluations"] == [{"count": 2, "enteredCompanies": [TOWNSEND, GLOBEX], "leftCompanies": [],
                                       "enteredPeople": []}]
    members = await execute_graphql(seeded_graph, "query ($id: ID!) { segment(id: $id) { members { people { email } } "
                                                  "} }", id=big)
    assert members.errors and "its members are `companies`" in members.errors[0].message
    # Globex's deal is lost: it leaves; the history keeps when and why it was in.
    await graphql_data(seeded_graph, """mutation { upsertOpportunities(source: "CRM 1", opportunities: [
        {id: "O-GLOBEX", accountId: "G-GLOBEX", name: "Plant", amount: 2000000, stageName: "Closed Lost",
         closeDate: "2026-09-01"}]) { records } }""")
    between = datetime.now(UTC)
    evaluation = await engine.evaluate(seeded_graph, big)
    assert (evaluation["leftCompanies"], evaluation["count"]) == ([GLOBEX], 1)
    was = """query ($id: ID!, $company: ID!, $at: DateTime!) { companyWasMember(segmentId: $id, companyId: $company,
        at: $at) { member since until members { email } explanation { kind companies { companyId value } } } }"""
    then = (await graphql_data(seeded_graph, was, id=big, company=GLOBEX, at=between.isoformat()))["companyWasMember"]
    assert then["member"] is True and then["until"] is not None and then["members"] == []
    assert then["explanation"] == [{"kind": "opportunities", "companies": [{"companyId": GLOBEX,
                                                                             "value": 2_000_000.0}]}]
    now = (await graphql_data(seeded_graph, was, id=big, company=GLOBEX,
                              at=datetime.now(UTC).isoformat()))["companyWasMember"]
    assert (now["member"], now["explanation"]) == (False, None)
    earlier = (await graphql_data(seeded_graph, was, id=big, company=GLOBEX, at=before.isoformat()))
    assert earlier["companyWasMember"]["member"] is False  # before the audience's first evaluation


async def test_companies_enter_live_from_their_deals_and_their_people(seeded_graph: Graph) -> None:
    await two_more_companies(seeded_graph)
    live = LiveAudiences(seeded_graph, Broker())
    await live.step()
    engaged = await save_audience(seeded_graph, "Two engaged", {"people": {"minCount": 2, "where": {
        "visits": {"url": SITE, "match": "PREFIX", "withinDays": 30}}}})
    huge = await save_audience(seeded_graph, "Huge", {"opportunities": {"op": "GT", "value": 2_500_000}})
    at_engaged = await save_segment(seeded_graph, "At an engaged company", {"segment": {"id": engaged}})
    assert await selected(seeded_graph, {"segment": {"id": engaged}}) == TOWNSEND_PEOPLE
    # a1 visits: one engaged person at Acme is not two.
    await visit(seeded_graph, "P-A1", days_ago=1)
    assert company_changes(await live.step(), engaged) == []
    # a2 visits: Acme enters; and both its people enter the person segment over it, a1 though only a2 changed.
    await visit(seeded_graph, "P-A2", days_ago=1)
    changes = await live.step()
    assert company_changes(changes, engaged) == [(ACME, "ENTERED")]
    assert sorted((c.email, c.change) for c in changes if c.segment_id == at_engaged) == [
        ("a1@acme.example", "ENTERED"), ("a2@acme.example", "ENTERED")]
    # Globex has no people: a deal of its own moves it.
    await graphql_data(seeded_graph, """mutation { upsertOpportunities(source: "CRM 1", opportunities: [
        {id: "O-GLOBEX-2", accountId: "G-GLOBEX", name: "Second plant", amount: 600000, stageName: "Closed Won",
         closeDate: "2026-10-01"}]) { records } }""")
    changes = await live.step()
    assert company_changes(changes, huge) == [(GLOBEX, "ENTERED")]
    # Every process hears them from the change feed, with the company and no person.
    page = await feed.read(seeded_graph, 0)
    heard = [(c.segment_id, c.company_id, c.email, c.change) for c in page.changes if c.segment_id in (engaged, huge)]
    assert heard[-2:] == [(engaged, ACME, None, "ENTERED"), (huge, GLOBEX, None, "ENTERED")]
    # Why Acme entered is kept with its entry.
    was = await graphql_data(seeded_graph, """query ($id: ID!, $company: ID!, $at: DateTime!) {
        companyWasMember(segmentId: $id, companyId: $company, at: $at) { member explanation { peopleCount
        people { email } } } }""", id=engaged, company=ACME, at=datetime.now(UTC).isoformat())
    assert was["companyWasMember"] == {"member": True, "explanation": [
        {"peopleCount": 2, "people": [{"email": "a1@acme.example"}, {"email": "a2@acme.example"}]}]}


async def test_a_merged_company_leaves_with_its_node_and_the_survivor_is_evaluated(seeded_graph: Graph) -> None:
    """MDM links Globex into Acme: Globex's company node goes (its membership with it); Acme, now holding
    both deals, enters the audience live."""
    await two_more_companies(seeded_graph)
    live = LiveAudiences(seeded_graph, Broker())
    await live.step()
    big = await save_audience(seeded_graph, "Big accounts", {"opportunities": {"op": "GT", "value": 1_000_000}})
    await graphql_data(seeded_graph, """mutation { upsertSameCompanyLinks(links: [{linkId: "M-1", sourceA: "CRM 1",
        accountIdA: "A-ACME", sourceB: "CRM 1", accountIdB: "G-GLOBEX", updatedAt: "2026-11-01T09:00:00Z"}]) {
        records } }""")
    changes = await live.step()
    assert company_changes(changes, big) == [(ACME, "ENTERED")]
    data = await graphql_data(seeded_graph, """query ($id: ID!) { segment(id: $id) { memberCount
        companies { companies { id wonTotal } } } }""", id=big)
    assert data["segment"]["companies"]["companies"] == [{"id": TOWNSEND, "wonTotal": 1_100_000.0},
                                                        {"id": ACME, "wonTotal": 2_050_000.0}]
    assert data["segment"]["memberCount"] == 2


async def test_rules_on_the_wrong_subject_are_refused_with_the_path(seeded_graph: Graph) -> None:
    person_rule = await execute_graphql(seeded_graph, CREATE, n="x", r={"visits": {"url": "/x"}})
    assert person_rule.errors and person_rule.errors[0].message.startswith("visits: is not a condition on a company")
    people = await execute_graphql(seeded_graph, """query { preview(rule: {people: {minCount: 2}}) { count } }""")
    assert people.errors and people.errors[0].message.startswith("people: is not a condition on a person")
    accounts = await execute_graphql(seeded_graph, """query { preview(rule: {person: {field: EMAIL, op: EQ,
        value: "p2@townsend.com"}}) { accounts { members { companyId } } } }""")
    assert accounts.errors and "this rule selects people" in accounts.errors[0].message
