"""End to end over real HTTP: the running service (uvicorn) answering GraphQL, probes and GraphiQL."""

from __future__ import annotations

import http.client
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.database import Graph
from service.graphiql import ASSET_FILES
from tests.snapshot import snapshot

EXAMPLE_QUERY = (Path(__file__).resolve().parent.parent / "service" / "api" / "example_query.graphql").read_text()

BAD_WITHIN_DAYS = """{
  audience(minCompanyWonAmount: 1000000, visitedPage: "https://www.bodea.com/products/new-product", withinDays: 0) {
    count
  }
}"""

UPSERT_NAMED = """mutation ($name: String!) {
  upsertPeople(source: "CRM 1", people: [{id: "1", email: "zoe@x.example", firstName: $name}]) { records } }"""


def post_graphql(client: httpx.Client, query: str) -> httpx.Response:
    return client.post("/graphql", json={"query": query}, headers={"Accept": "application/json"})


def error_messages(body: dict[str, Any]) -> list[str]:
    return [error["message"] for error in body.get("errors") or []]


def test_example_query_answers_the_townsend_audience(client: httpx.Client, seeded_graph: Graph) -> None:
    response = post_graphql(client, EXAMPLE_QUERY)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body or not body["errors"], body
    audience = body["data"]["audience"]
    assert audience["count"] == 1
    assert [person["email"] for person in audience["people"]] == ["p2@townsend.com"]
    assert audience["people"][0]["companyWonTotal"] == 1_100_000
    assert b'"companyWonTotal":1100000.0' in response.content  # a Float stays a float in the JSON


def test_answers_are_utf8_json_with_the_values_as_before(client: httpx.Client, graph: Graph) -> None:
    """orjson writes the answers: characters past ASCII as UTF-8 (not \\u escapes), the same values."""
    name = 'Zoë "Ø" \\ 😀 \u2028 end'
    upsert = client.post("/graphql", json={"query": UPSERT_NAMED, "variables": {"name": name}})
    assert upsert.json() == {"data": {"upsertPeople": {"records": 1}}}, upsert.text
    response = post_graphql(client, '{ person(email: "zoe@x.example") { firstName } }')
    assert response.headers["content-type"] == "application/json"
    assert response.content == ('{"data":{"person":{"firstName":"Zoë \\"Ø\\" \\\\ 😀 \u2028 end"}}}').encode()
    assert response.json()["data"]["person"]["firstName"] == name


def test_health_and_readiness(client: httpx.Client) -> None:
    health = client.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()["status"]) == (200, "ready")
    assert ready.json()["warmed"]["failed"] == [], "every named query was warmed (tests/test_warmup.py)"


def test_a_bad_argument_is_a_graphql_error_not_a_server_error(client: httpx.Client) -> None:
    response = post_graphql(client, BAD_WITHIN_DAYS)
    assert response.status_code == 200, response.text
    body = response.json()
    messages = error_messages(body)
    assert messages, body
    assert any("withinDays" in message for message in messages), messages
    assert (body.get("data") or {}).get("audience") is None


def test_a_syntax_error_is_reported_not_a_server_error(client: httpx.Client) -> None:
    response = post_graphql(client, "{ audience(minCompanyWonAmount: 1 { count }")
    assert response.status_code in (200, 400), response.text
    messages = error_messages(response.json())
    assert messages
    assert any("Syntax Error" in message for message in messages), messages


def test_graphiql_page_is_served_from_this_service_only(client: httpx.Client) -> None:
    response = client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "/graphiql/assets/graphiql.js" in page
    assert "/graphiql/assets/graphiql.css" in page
    assert "TownsendAudience" in page  # the example query is preloaded
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.IGNORECASE), page
    # The only absolute URL is the page named inside the example query.
    assert set(re.findall(r"https?://[^\s\"'\\]+", page)) <= {"https://www.bodea.com/products/new-product"}
    assert "default-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("name", sorted(ASSET_FILES))
def test_each_allow_listed_asset_is_served(client: httpx.Client, name: str) -> None:
    response = client.get(f"/graphiql/assets/{name}")
    assert response.status_code == 200, response.text[:200]
    expected = "text/css" if name.endswith(".css") else "application/javascript"
    assert response.headers["content-type"].startswith(expected)
    assert response.content == ASSET_FILES[name].read_bytes()


@pytest.mark.parametrize("path", [
    "/graphiql/assets/../../pyproject.toml",
    "/graphiql/assets/..%2F..%2Fpyproject.toml",
    "/graphiql/assets/%2e%2e/%2e%2e/pyproject.toml",
    "/graphiql/assets/package.json",
    "/graphiql/assets/graphiql.min.js",
    "/graphiql/assets/",
])
def test_anything_else_under_assets_is_not_found(live_server: str, path: str) -> None:
    # http.client sends the path verbatim; httpx would resolve the dot segments before sending.
    url = httpx.URL(live_server)
    connection = http.client.HTTPConnection(url.host, url.port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        status, body = response.status, response.read().decode(errors="replace")
    finally:
        connection.close()
    assert status == 404, (path, status, body[:200])
    assert "[project]" not in body


@pytest.mark.asyncio
async def test_a_rejected_event_batch_names_each_events_record_id(client: httpx.Client, seeded_graph: Graph) -> None:
    before = await snapshot(seeded_graph)
    unknown = client.post("/events", json={"source": "Marketo 1", "events": [
        {"type": "webVisit", "Id": "v1", "PersonId": "1002", "Colour": "red"}]})
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == [{"file": "events", "line": 0, "id": "v1", "column": "Colour",
                                         "reason": "unknown field for a webVisit event"}]
    invalid = client.post("/events", json={"source": "Marketo 1", "events": [
        {"type": "person", "Id": "x1", "Email": "broken"}, {"type": "person", "Email": "nobody@x.example"}]})
    assert invalid.status_code == 400
    assert [(e["line"], e["id"], e["column"]) for e in invalid.json()["errors"]] == [(0, "x1", "Email"), (1, "", "Id")]
    unresolved = client.post("/events", json={"source": "Marketo 1", "events": [
        {"type": "accountPerson", "AccountId": "3001", "PersonId": "NOPE"}]})
    assert unresolved.status_code == 400
    assert [(e["id"], e["column"]) for e in unresolved.json()["errors"]] == [("3001, NOPE", "PersonId")]
    assert await snapshot(seeded_graph) == before
