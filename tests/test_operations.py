"""Operations over real HTTP: /metrics in the Prometheus text format moves with the requests made, and
the request id is in the response header, in GraphQL errors and in the JSON log lines of the request."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from service.database import Graph, Neo4jConnection
from service.queries import Q
from tests.helpers import ApiKeys, ServiceProcess

NAMED = "query ListSegments { segments { id } }"
BAD_ARGUMENT = "query TooShort { audience(minCompanyWonAmount: 1, visitedPage: \"https://x.example/\", " \
               "withinDays: 0) { count } }"


def scrape(base_url: str, **headers: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = httpx.get(f"{base_url}/metrics", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(metrics: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return metrics.get((name, frozenset(labels.items())), 0.0)


def test_metrics_move_with_the_requests_made(live_server: str, client: httpx.Client, seeded_graph: Graph) -> None:
    ops = "accountgraph_graphql_request_seconds_count"
    neo4j = "accountgraph_neo4j_query_seconds_count"
    http = "accountgraph_http_request_seconds_count"
    before = scrape(live_server)  # open without a key: no METRICS_TOKEN
    answered = client.post("/graphql", json={"query": NAMED})
    assert answered.status_code == 200 and "errors" not in answered.json(), answered.text
    refused = client.post("/graphql", json={"query": BAD_ARGUMENT})
    assert refused.json()["errors"][0]["extensions"]["code"] == "RULE_INVALID", refused.text
    assert client.post("/graphql", json={"query": "{ segments { id "}).json()["errors"]
    after = scrape(live_server)

    assert value(after, ops, operation="ListSegments", type="query", outcome="ok") == \
        value(before, ops, operation="ListSegments", type="query", outcome="ok") + 1
    assert value(after, ops, operation="TooShort", type="query", outcome="rule_invalid") == \
        value(before, ops, operation="TooShort", type="query", outcome="rule_invalid") + 1
    assert value(after, ops, operation="anonymous", type="unknown", outcome="invalid_query") == \
        value(before, ops, operation="anonymous", type="unknown", outcome="invalid_query") + 1
    # The one catalogue query ListSegments runs, timed by its name (the key check is cached).
    assert value(after, neo4j, query=Q.SEGMENTS_ALL.value) == value(before, neo4j, query=Q.SEGMENTS_ALL.value) + 1
    assert value(after, http, method="POST", route="/graphql", status="200") == \
        value(before, http, method="POST", route="/graphql", status="200") + 3
    # The first scrape itself, and its read of the backlog (a scrape's own read is counted after its answer).
    assert value(after, http, method="GET", route="/metrics", status="200") >= 1
    assert value(after, neo4j, query=Q.METRICS_BACKLOG.value) >= 1
    assert value(after, "accountgraph_backlog_up") == 1
    assert value(after, "accountgraph_live_pending_people") == 0
    assert value(after, "accountgraph_webhook_deliveries_pending") == 0
    assert after[("accountgraph_live_lag_seconds", frozenset())] >= 0


def test_import_rows_are_counted_by_kind(live_server: str, client: httpx.Client, seeded_graph: Graph) -> None:
    rows = "accountgraph_import_rows_total"
    before = scrape(live_server)
    visit = {"type": "webVisit", "Id": "ops-visit-1", "PersonId": "1001", "Url": "https://www.bodea.com/",
             "VisitedAt": "2026-01-01T00:00:00Z"}
    answered = client.post("/events", json={"source": "Marketo 1", "events": [visit]})
    assert answered.status_code == 200, answered.text
    rejected = client.post("/events", json={"source": "Marketo 1", "events": [{**visit, "PersonId": "NOPE"}]})
    assert rejected.status_code == 400, rejected.text
    after = scrape(live_server)
    assert value(after, rows, kind="web-visits", action="upsert") == \
        value(before, rows, kind="web-visits", action="upsert") + 1
    rejections = "accountgraph_imports_rejected_total"
    assert value(after, rejections) == value(before, rejections) + 1


def test_the_request_id_is_taken_answered_and_in_graphql_errors(client: httpx.Client, graph: Graph) -> None:
    given = "trace-0af7651916cd43dd8448eb211c80319c"
    refused = client.post("/graphql", json={"query": BAD_ARGUMENT}, headers={"X-Request-Id": given})
    assert refused.headers["X-Request-Id"] == given
    assert [error["extensions"]["requestId"] for error in refused.json()["errors"]] == [given]
    syntax = client.post("/graphql", json={"query": "{"}, headers={"X-Request-Id": given})
    assert syntax.json()["errors"][0]["extensions"] == {"code": "INVALID_QUERY", "requestId": given}
    # Not well-formed (a space, a quote, too long): replaced by an id of the service's own.
    for bad in ("two words", 'quote"d', "x" * 129):
        answered = client.post("/graphql", json={"query": "{"}, headers={"X-Request-Id": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", answered.headers["X-Request-Id"])
        assert answered.json()["errors"][0]["extensions"]["requestId"] == answered.headers["X-Request-Id"]
    # Refused before GraphQL runs (no key): the same shape, the same id.
    no_key = httpx.post(f"{client.base_url}/graphql", json={"query": "{ segments { id } }"},
                        headers={"X-Request-Id": given})
    assert no_key.status_code == 401
    assert no_key.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "requestId": given}


def _json_lines(log: Path) -> list[dict[str, Any]]:
    lines = []
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_serve_logs_json_lines_with_the_request_id_and_guards_metrics_with_a_token(
        neo4j_connection: Neo4jConnection, api_keys: ApiKeys, graph: Graph, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    token = "metrics-token-0123456789"
    forged = "ag_0123456789ab_" + "s" * 43  # shaped like a key, stored nowhere
    with ServiceProcess(neo4j_connection, log, METRICS_TOKEN=token) as service:
        assert httpx.get(f"{service.url}/metrics").status_code == 401
        assert httpx.get(f"{service.url}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        scraped = scrape(service.url, Authorization=f"Bearer {token}")
        assert value(scraped, "accountgraph_backlog_up") == 1
        answered = httpx.post(f"{service.url}/graphql", json={"query": NAMED},
                              headers={**api_keys.header(api_keys.read), "X-Request-Id": "ops-test-ok"})
        assert answered.status_code == 200 and answered.headers["X-Request-Id"] == "ops-test-ok"
        refused = httpx.post(f"{service.url}/graphql", json={"query": NAMED},
                             headers={"Authorization": f"Bearer {forged}", "X-Request-Id": "ops-test-refused"})
        assert refused.status_code == 401
    lines = _json_lines(log)
    assert lines, log.read_text()
    for line in lines:
        assert {"time", "level", "logger", "message", "request_id"} <= line.keys(), line
    [ok] = [line for line in lines if line["request_id"] == "ops-test-ok"]
    assert ok["logger"] == "accountgraph.access" and ok["status"] == 200 and ok["route"] == "/graphql"
    assert ok["operation"] == "ListSegments" and ok["key_id"] and ok["duration_ms"] >= 0
    of_refused = [line for line in lines if line["request_id"] == "ops-test-refused"]
    assert {line["logger"] for line in of_refused} == {"accountgraph", "accountgraph.access"}, of_refused
    assert any("refused" in line["message"] and "0123456789ab" in line["message"] for line in of_refused)
    text = log.read_text()
    assert forged not in text and token not in text and api_keys.read not in text
    assert neo4j_connection.password.get_secret_value() not in text
