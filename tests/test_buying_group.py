"""Buying groups (service.segments.buying_group) on the Townsend seed, answers computed by hand:

- CRM 1 records p2 as Decision Maker and p1 as Technical Buyer, both on the fleet-software deal
  and at account 0011A00001.
- CRM 2 records p2 as Economic Buyer, on the 3D-printer deal and at account 0012B00007, and p3 as
  Influencer on the renewal deal (p3's role at the account, "User", is not a buying-group role).
- The two CRM accounts are one company (MDM), so the group gathers all of it. Nobody is Champion.
- The seed's visits are kept 4 (p1), 7 (p2) and 42 (p3) days old: in 30 days p1 and p2 are
  engaged, in 60 days all three are.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from service.database import Graph
from service.realtime.broker import Broker
from service.realtime.live import LiveAudiences
from tests.helpers import graphql_data, run_cypher, save_segment, selected

pytestmark = pytest.mark.asyncio

TOWNSEND = "CRM 1/0011A00001"
GROUP = """query ($id: ID!, $days: Int!) { company(id: $id) { buyingGroup(withinDays: $days) {
  withinDays filledRoles missingRoles engagedMembers
  roles { role filled members { email role via source recordId engaged visits } } } } }"""
PEOPLE = ["p1@townsend.com", "p2@townsend.com", "p3@townsend.com"]


async def buying_group(graph: Graph, days: int = 30) -> dict[str, Any]:
    group: dict[str, Any] = (await graphql_data(graph, GROUP, id=TOWNSEND, days=days))["company"]["buyingGroup"]
    return group


async def test_the_group_gathers_roles_from_deals_and_accounts_across_linked_accounts(seeded_graph: Graph) -> None:
    group = await buying_group(seeded_graph)
    assert (group["withinDays"], group["filledRoles"], group["missingRoles"], group["engagedMembers"]) == (
        30, 4, ["Champion"], 2)
    held = {role["role"]: [(m["email"], m["via"], m["source"], m["recordId"]) for m in role["members"]]
            for role in group["roles"]}
    assert held == {
        "Decision Maker": [("p2@townsend.com", "ACCOUNT", "CRM 1", "0011A00001"),
                           ("p2@townsend.com", "OPPORTUNITY", "CRM 1", "0061A00001")],
        "Economic Buyer": [("p2@townsend.com", "ACCOUNT", "CRM 2", "0012B00007"),
                           ("p2@townsend.com", "OPPORTUNITY", "CRM 2", "0062B00011")],
        "Technical Buyer": [("p1@townsend.com", "ACCOUNT", "CRM 1", "0011A00001"),
                            ("p1@townsend.com", "OPPORTUNITY", "CRM 1", "0061A00001")],
        "Champion": [],
        "Influencer": [("p3@townsend.com", "OPPORTUNITY", "CRM 2", "0062B00012")],
    }
    assert [role["filled"] for role in group["roles"]] == [True, True, True, False, True]
    engaged = {m["email"]: (m["engaged"], m["visits"]) for role in group["roles"] for m in role["members"]}
    assert engaged == {"p1@townsend.com": (True, 1), "p2@townsend.com": (True, 1), "p3@townsend.com": (False, 0)}
    assert (await buying_group(seeded_graph, days=60))["engagedMembers"] == 3


async def test_rules_on_roles_coverage_and_engagement(seeded_graph: Graph) -> None:
    assert await selected(seeded_graph, {"buyingGroup": {"roles": ["decision maker ", "Influencer"]}}) == PEOPLE
    assert await selected(seeded_graph, {"buyingGroup": {"roles": ["Champion"]}}) == []
    assert await selected(seeded_graph, {"buyingGroup": {"minRoles": 4}}) == PEOPLE
    assert await selected(seeded_graph, {"buyingGroup": {"minRoles": 5}}) == []
    assert await selected(seeded_graph, {"buyingGroup": {"minEngaged": 2}}) == PEOPLE
    assert await selected(seeded_graph, {"buyingGroup": {"minEngaged": 3}}) == []
    assert await selected(seeded_graph, {"buyingGroup": {"minEngaged": 3, "withinDays": 60}}) == PEOPLE
    assert await selected(seeded_graph, {"buyingGroup": {"roles": ["Decision Maker"], "minEngaged": 3}}) == []
    explained = await graphql_data(seeded_graph, """query { preview(rule: {buyingGroup: {minRoles: 4}}) {
        members(first: 1) { members { explanation { kind matched companies { companyId value matched } } } } } }""")
    [member] = explained["preview"]["members"]["members"]
    assert member["explanation"] == [{"kind": "buyingGroup", "matched": True,
                                      "companies": [{"companyId": TOWNSEND, "value": 4.0, "matched": True}]}]


async def test_a_role_filled_moves_the_company_s_people_in_live(seeded_graph: Graph) -> None:
    full = await save_segment(seeded_graph, "Full buying group", {"buyingGroup": {"minRoles": 5}})
    assert (await graphql_data(seeded_graph, "query ($id: ID!) { segment(id: $id) { memberCount } }",
                               id=full))["segment"]["memberCount"] == 0
    live = LiveAudiences(seeded_graph, Broker())
    await live.step()  # nothing is pending but what the seed left
    await graphql_data(seeded_graph, 'mutation { upsertAccountPeople(source: "CRM 2", links: [{accountId: '
                                     '"0012B00007", personId: "0032B00008", role: "Champion"}]) { records } }')
    changes = await live.step()
    assert sorted((c.email, c.change) for c in changes if c.segment_id == full) == [
        (email, "ENTERED") for email in PEOPLE]
    assert (await buying_group(seeded_graph))["missingRoles"] == []
    # And lost again: the link goes, and with it the Champion.
    await graphql_data(seeded_graph, 'mutation { upsertAccountPeople(source: "CRM 2", links: [{accountId: '
                                     '"0012B00007", personId: "0032B00008", role: "User"}]) { records } }')
    changes = await live.step()
    assert sorted((c.email, c.change) for c in changes if c.segment_id == full) == [
        (email, "LEFT") for email in PEOPLE]


async def test_an_engaged_member_ageing_out_of_the_window_moves_the_company_s_people_out(
        seeded_graph: Graph) -> None:
    """p2's visit (7 days old) is moved to just inside 30 days, the last sweep to a minute ago; a minute
    later the visit has left the window: the sweep marks Townsend's people, and with one engaged member
    left (p1) the group no longer has two."""
    engaged = await save_segment(seeded_graph, "Engaged group", {"buyingGroup": {"minEngaged": 2}})
    await run_cypher(seeded_graph, """
        MATCH (:Person {email: 'p2@townsend.com'})-[:VISITED]->(v:WebVisit)
        SET v.visitedAt = datetime() - duration({days: 30}) + duration({seconds: 5})
        MERGE (sweep:Sweep {name: 'expiry'}) SET sweep.at = datetime() - duration({minutes: 1})""")
    live = LiveAudiences(seeded_graph, Broker(), sweep_seconds=0)
    assert await selected(seeded_graph, {"buyingGroup": {"minEngaged": 2}}) == PEOPLE  # still inside, just
    await asyncio.sleep(6)  # the visit leaves the window
    changes = await live.step()  # the sweep (this loop takes the lease), then the marked people
    assert sorted((c.email, c.change) for c in changes if c.segment_id == engaged) == [
        (email, "LEFT") for email in PEOPLE]


async def test_a_condition_that_asks_for_nothing_is_refused(seeded_graph: Graph) -> None:
    from tests.helpers import execute_graphql

    result = await execute_graphql(seeded_graph, "query { preview(rule: {buyingGroup: {withinDays: 7}}) { count } }")
    assert result.errors and result.errors[0].message == \
        "buyingGroup: must ask for something: roles, minRoles or minEngaged"
