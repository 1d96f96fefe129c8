"""The service's Prometheus metrics, defined once (docs/operations.md lists them and what to alert on).

Each process counts its own, in the process's default registry: `/metrics` (service.scrape) exposes
them with the graph-wide backlog read at scrape time. Labels take only bounded sets of values:
catalogue query names, routes, error codes, record kinds, and GraphQL operation names up to
MAX_OPERATION_NAMES a process (then `other`)."""

from __future__ import annotations

import re
import threading

from prometheus_client import Counter, Gauge, Histogram

NAMESPACE = "accountgraph"
# Seconds: from a cached read (~1 ms) to the 30 s transaction timeout.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
MAX_OPERATION_NAMES = 200
ANONYMOUS = "anonymous"
OTHER = "other"
OK = "ok"
_GRAPHQL_NAME = re.compile(r"\A[_A-Za-z][_0-9A-Za-z]{0,99}\Z")

GRAPHQL_SECONDS = Histogram(
    "graphql_request_seconds", "GraphQL operations over HTTP and WebSocket (subscriptions: until their first "
    "answer is set up), by operation name, type and outcome ('ok' or the first error's code in lower case)",
    ["operation", "type", "outcome"], namespace=NAMESPACE, buckets=LATENCY_BUCKETS)
HTTP_SECONDS = Histogram(
    "http_request_seconds", "HTTP requests by method, route (the path template; 'unmatched' for none) and status",
    ["method", "route", "status"], namespace=NAMESPACE, buckets=LATENCY_BUCKETS)
NEO4J_SECONDS = Histogram(
    "neo4j_query_seconds", "Neo4j queries of the catalogue by name (cypher/<name>.cypher), results read, "
    "failures included", ["query"], namespace=NAMESPACE, buckets=LATENCY_BUCKETS)
NEO4J_FAILURES = Counter(
    "neo4j_query_failures", "Neo4j queries that failed, by name and kind (timeout, unavailable, error)",
    ["query", "kind"], namespace=NAMESPACE)
LIVE_LAG = Gauge(
    "live_lag_seconds", "Seconds since this process's live loop last had every marked person evaluated "
    "(at most about LIVE_POLL_SECONDS when it keeps up)", namespace=NAMESPACE)
LIVE_ROUND_SECONDS = Histogram(
    "live_round_seconds", "Rounds of the live loop (claim, evaluate every saved segment, queue deliveries)",
    namespace=NAMESPACE, buckets=LATENCY_BUCKETS)
LIVE_EVALUATED = Counter(
    "live_evaluated", "People and companies evaluated by this process's live loop", namespace=NAMESPACE)
LIVE_CHANGES = Counter(
    "live_changes", "Audience changes found by this process's live loop, by change (entered, left)",
    ["change"], namespace=NAMESPACE)
LIVE_FAILURES = Counter(
    "live_round_failures", "Rounds of the live loop that failed, by kind (unavailable: Neo4j; error: a bug)",
    ["kind"], namespace=NAMESPACE)
WEBHOOK_ATTEMPTS = Counter(
    "webhook_attempts", "Tries of live webhook deliveries (the outbox) by this process, by result "
    "(delivered, failed: retried later, dead: dead-lettered)", ["result"], namespace=NAMESPACE)
IMPORT_ROWS = Counter(
    "import_rows", "Rows written by imports of this process (CLI, mutations, POST /events), by record kind and "
    "action (upsert, delete)", ["kind", "action"], namespace=NAMESPACE)
IMPORTS_REJECTED = Counter(
    "imports_rejected", "Imports refused whole for invalid records (nothing written)", namespace=NAMESPACE)

_operation_names: set[str] = set()
_names_lock = threading.Lock()


def operation_label(name: str | None) -> str:
    """The label of a GraphQL operation: its name, 'anonymous' without one, 'other' for a name that is not
    a GraphQL name or once MAX_OPERATION_NAMES were seen (clients choose names: the series stay bounded)."""
    if not name:
        return ANONYMOUS
    if not _GRAPHQL_NAME.match(name):
        return OTHER
    with _names_lock:
        if name in _operation_names:
            return name
        if len(_operation_names) >= MAX_OPERATION_NAMES:
            return OTHER
        _operation_names.add(name)
        return name
