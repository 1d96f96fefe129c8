"""Upsert mutations over real HTTP: other systems feed the graph a record or a batch at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from service.api.mutation import MAX_BATCH
from service.database import Graph
from tests.snapshot import snapshot

PAGE = "https://www.bodea.com/products/new-product"


def graphql(client: httpx.Client, query: str, **variables: Any) -> dict[str, Any]:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert not body.get("errors"), body["errors"]
    return body["data"]


def test_records_sent_one_by_one_build_the_audience(client: httpx.Client, graph: Graph) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    for source, account in (("CRM 1", "A1"), ("CRM 2", "B1")):
        data = ok(graphql(client, """mutation ($source: String!, $id: String!) {
            upsertAccounts(source: $source, accounts: [{id: $id, name: "Globex", billingCountry: "France"}]) {
              source records }
        }""", source=source, id=account))
        assert data["upsertAccounts"] == {"source": source, "records": 1}
        ok(graphql(client, """mutation ($source: String!, $account: String!) {
            upsertOpportunities(source: $source, opportunities: [
              {id: "deal", accountId: $account, name: "Deal", amount: 600000, stageName: "Closed Won",
               closeDate: "2026-09-01"}
            ]) { records }
        }""", source=source, account=account))
    ok(graphql(client, """mutation {
        upsertPeople(source: "CRM 1", people: [{id: "P1", email: " Eve@Globex.example", firstName: "Eve"}]) { records }
    }"""))
    ok(graphql(client, """mutation {
        upsertAccountPeople(source: "CRM 1", links: [{accountId: "A1", personId: "P1", role: "Buyer"}]) { records }
    }"""))
    ok(graphql(client, """mutation ($at: DateTime!, $page: String!) {
        recordWebVisits(source: "CRM 1", visits: [{id: "v1", personId: "P1", url: $page, visitedAt: $at}]) { records }
    }""", at=yesterday, page=PAGE))
    audience = """query ($page: String!) { audience(minCompanyWonAmount: 1000000, visitedPage: $page, withinDays: 30) {
        people { email companyWonTotal } } }"""
    assert ok(graphql(client, audience, page=PAGE))["audience"]["people"] == []
    link = ok(graphql(client, """mutation {
        upsertSameCompanyLinks(links: [{linkId: "G-1", sourceA: "CRM 1", accountIdA: "A1", sourceB: "CRM 2",
                                        accountIdB: "B1", updatedAt: "2026-11-01T09:00:00Z"}]) { source records }
    }"""))
    assert link["upsertSameCompanyLinks"] == {"source": "MDM", "records": 1}
    assert ok(graphql(client, audience, page=PAGE))["audience"]["people"] == [
        {"email": "eve@globex.example", "companyWonTotal": 1_200_000}]
    lineage = ok(graphql(client, """{ account(source: "CRM 2", sourceKey: "B1") { company {
        id links { mdmId updatedAt fromAccount { source sourceKey } toAccount { source sourceKey } } } } }"""))
    assert lineage["account"]["company"] == {"id": "CRM 1/A1", "links": [{
        "mdmId": "G-1", "updatedAt": "2026-11-01T09:00:00+00:00",
        "fromAccount": {"source": "CRM 1", "sourceKey": "A1"}, "toAccount": {"source": "CRM 2", "sourceKey": "B1"}}]}
    ok(graphql(client, 'mutation { upsertSameCompanyLinks(links: [{linkId: "G-1", isDeleted: true}]) { records } }'))
    assert ok(graphql(client, audience, page=PAGE))["audience"]["people"] == []


@pytest.mark.asyncio
async def test_an_invalid_record_rejects_the_batch_and_names_record_and_field(client: httpx.Client,
                                                                              seeded_graph: Graph) -> None:
    before = await snapshot(seeded_graph)
    body = graphql(client, """mutation {
        upsertPeople(source: "Marketo 1", people: [{id: "n1", email: "new@x.example"}, {id: "n2", email: "broken"}]) {
          records }
    }""")
    assert body["data"] is None
    [error] = body["errors"]
    assert "people[1].email (id 'n2'): 'broken' is not an email address" in error["message"]
    assert error["extensions"]["errors"] == [{"record": 1, "id": "n2", "field": "email",
                                              "reason": "'broken' is not an email address"}]
    body = graphql(client, """mutation {
        upsertOpportunities(source: "Marketo 1", opportunities: [{id: "o", accountId: "3001", name: "x",
          amount: -1, stageName: "Closed Won", closeDate: "2026-01-01"}]) { records }
    }""")
    assert "opportunities[0].amount" in body["errors"][0]["message"]
    assert [(e["id"], e["field"]) for e in body["errors"][0]["extensions"]["errors"]] == [("o", "amount")]
    body = graphql(client,
                   'mutation { upsertPeople(source: " ", people: [{id: "1", email: "a@b.example"}]) { records } }')
    assert "a source name is required" in body["errors"][0]["message"]
    assert await snapshot(seeded_graph) == before


@pytest.mark.asyncio
async def test_an_error_names_the_records_id_its_key_pair_or_none_when_the_key_is_missing(
        client: httpx.Client, seeded_graph: Graph) -> None:
    before = await snapshot(seeded_graph)
    body = graphql(client, """mutation { upsertAccountPeople(source: "Marketo 1", links: [
        {accountId: "3001", personId: "1002"}, {accountId: "3001", personId: "NOPE"}]) { records } }""")
    [error] = body["errors"]
    assert "links[1].personId (id '3001, NOPE'): no people record with Id 'NOPE'" in error["message"]
    assert [(e["record"], e["id"], e["field"]) for e in error["extensions"]["errors"]] == [
        (1, "3001, NOPE", "personId")]
    body = graphql(client, """mutation { recordWebVisits(source: "Marketo 1", visits: [
        {id: " ", personId: "1002", url: "https://x.example/", visitedAt: "2026-01-01T00:00:00Z"}]) { records } }""")
    [error] = body["errors"]
    assert "visits[0].id: a value is required" in error["message"]
    assert error["extensions"]["errors"] == [{"record": 0, "id": "", "field": "id", "reason": "a value is required"}]
    assert await snapshot(seeded_graph) == before


def test_batches_are_capped(client: httpx.Client, graph: Graph) -> None:
    people = [{"id": str(i), "email": f"p{i}@x.example"} for i in range(MAX_BATCH + 1)]
    body = graphql(client, """mutation ($people: [PersonInput!]!) {
        upsertPeople(source: "CRM 1", people: $people) { records } }""", people=people)
    assert f"at most {MAX_BATCH} records" in body["errors"][0]["message"]
    body = graphql(client, """mutation ($people: [PersonInput!]!) {
        upsertPeople(source: "CRM 1", people: $people) { records } }""", people=people[:MAX_BATCH])
    assert ok(body)["upsertPeople"]["records"] == MAX_BATCH
