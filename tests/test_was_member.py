"""Membership as of any date, and why (`wasMember`): each entry keeps the explanation of its moment,
so "why was p2 in the Townsend audience then" has an answer after the data has moved on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from service.database import Graph
from service.ingest.pipeline import ingest_path
from service.realtime.broker import Broker
from service.realtime.live import LiveAudiences
from service.segments import engine
from service.segments.presets import audience_rule
from tests.helpers import ago, execute_graphql, graphql_data, run_cypher, save_segment

pytestmark = pytest.mark.asyncio

PAGE = "https://www.bodea.com/products/new-product"
WAS_MEMBER = """query ($id: ID!, $email: String!, $at: DateTime!) {
  wasMember(segmentId: $id, email: $email, at: $at) {
    email member since until historyFrom knownPerson
    explanation { path kind matched
      companies { value matched dealCount deals { sourceKey amount } accounts { source sourceKey } }
      visits { sourceKey url } } } }"""


COMPANY_WAS_MEMBER = """query ($id: ID!, $company: ID!, $at: DateTime!) {
  companyWasMember(segmentId: $id, companyId: $company, at: $at) {
    member knownCompany historyFrom
    members { email since until explanation { kind companies { value } } } } }"""


async def was_member(graph: Graph, segment_id: str, email: str, at: datetime) -> dict[str, Any]:
    answer: dict[str, Any] = (await graphql_data(graph, WAS_MEMBER, id=segment_id, email=email,
                                                 at=at.isoformat()))["wasMember"]
    return answer


def moment(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value.to_native()


async def test_the_explanation_of_the_day_is_kept_after_the_data_moves_on(seeded_graph: Graph,
                                                                          tmp_path: Path) -> None:
    townsend = await save_segment(seeded_graph, "Townsend top customers", audience_rule(1_000_000, PAGE, 30))
    [entered] = await run_cypher(seeded_graph, "MATCH (:Person {email: 'p2@townsend.com'})-[:ENTERED]->(e) "
                                               "RETURN e.at AS at")
    entered_at = moment(entered["at"])
    # The 900,000 deal shrinks to 700,000: Townsend's won total is 900,000, under the threshold.
    (tmp_path / "opportunities.csv").write_text(
        "Id,AccountId,Name,Amount,StageName,CloseDate\n"
        "0062B00011,0012B00007,Opportunity 2: 3D printer line,700000,Closed Won,2026-08-15\n")
    await ingest_path(seeded_graph, tmp_path / "opportunities.csv", "CRM 2")
    left = await engine.evaluate(seeded_graph, townsend)
    assert left["leftPeople"] == ["p2@townsend.com"]
    left_at = moment(left["at"])

    then = await was_member(seeded_graph, townsend, " P2@Townsend.com ", entered_at + (left_at - entered_at) / 2)
    assert (then["email"], then["member"], moment(then["since"]), moment(then["until"])) == (
        "p2@townsend.com", True, entered_at, left_at)
    by_kind = {evidence["kind"]: evidence for evidence in then["explanation"]}
    assert set(by_kind) == {"opportunities", "visits"} and all(e["matched"] for e in then["explanation"])
    [company] = by_kind["opportunities"]["companies"]
    assert (company["value"], company["matched"], company["dealCount"]) == (1_100_000.0, True, 2)
    assert [(d["sourceKey"], d["amount"]) for d in company["deals"]] == [("0062B00011", 900_000.0),
                                                                         ("0061A00001", 200_000.0)]
    assert sorted((a["source"], a["sourceKey"]) for a in company["accounts"]) == [("CRM 1", "0011A00001"),
                                                                                  ("CRM 2", "0012B00007")]
    assert [v["url"] for v in by_kind["visits"]["visits"]] == [PAGE]

    now = await was_member(seeded_graph, townsend, "p2@townsend.com", datetime.now(UTC))
    assert (now["member"], now["since"], now["explanation"]) == (False, None, None)
    before = await was_member(seeded_graph, townsend, "p2@townsend.com", entered_at - timedelta(days=1))
    assert (before["member"], moment(before["historyFrom"]), before["knownPerson"]) == (False, entered_at, True)
    stranger = await was_member(seeded_graph, townsend, "nobody@example.com", datetime.now(UTC))
    assert (stranger["member"], stranger["knownPerson"]) == (False, False)

    # "Why was Townsend in this audience then?": the company form answers with its people who were in.
    company = (await graphql_data(seeded_graph, COMPANY_WAS_MEMBER, id=townsend, company="CRM 1/0011A00001",
                                  at=(entered_at + (left_at - entered_at) / 2).isoformat()))["companyWasMember"]
    assert (company["member"], company["knownCompany"]) == (True, True)
    [p2] = company["members"]
    assert (p2["email"], moment(p2["since"]), moment(p2["until"])) == ("p2@townsend.com", entered_at, left_at)
    assert [c["value"] for e in p2["explanation"] if e["kind"] == "opportunities" for c in e["companies"]] == [
        1_100_000.0]
    later = (await graphql_data(seeded_graph, COMPANY_WAS_MEMBER, id=townsend, company="CRM 1/0011A00001",
                                at=datetime.now(UTC).isoformat()))["companyWasMember"]
    assert (later["member"], later["members"]) == (False, [])


async def test_a_live_entry_keeps_its_explanation_too(seeded_graph: Graph) -> None:
    recent = await save_segment(seeded_graph, "Recent visitors", {"visits": {"url": PAGE, "withinDays": 30}})
    await graphql_data(seeded_graph, """mutation ($at: DateTime!) { recordWebVisits(source: "Marketo 1", visits: [
        {id: "live-1", personId: "1001", url: "https://www.bodea.com/products/new-product", visitedAt: $at}]) {
        records } }""", at=ago(seconds=1))
    changes = await LiveAudiences(seeded_graph, Broker()).step()
    assert [(c.email, c.change) for c in changes] == [("p1@townsend.com", "ENTERED")]
    answer = await was_member(seeded_graph, recent, "p1@townsend.com", datetime.now(UTC))
    assert answer["member"] is True
    [evidence] = answer["explanation"]
    assert (evidence["kind"], evidence["matched"], [v["sourceKey"] for v in evidence["visits"]]) == (
        "visits", True, ["live-1"])


async def test_a_bad_email_or_an_unknown_segment(seeded_graph: Graph) -> None:
    result = await execute_graphql(seeded_graph, WAS_MEMBER, id="no-such-segment", email="not an email",
                                   at="2026-11-03T00:00:00Z")
    assert result.errors and result.errors[0].message == "email: not an email address"
    unknown = await graphql_data(seeded_graph, WAS_MEMBER, id="no-such-segment", email="p2@townsend.com",
                                 at="2026-11-03T00:00:00Z")
    assert unknown == {"wasMember": None}
