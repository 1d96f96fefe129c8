"""GET /metrics: this process's metrics in the Prometheus text format (service.metrics), with the
graph-wide backlog read when scraped (cypher/metrics/backlog: people and companies waiting for the live
loop, webhook deliveries waiting and dead-lettered), the same from every process.

Open on the service's port like /healthz and /readyz unless METRICS_TOKEN is set; then a scrape must
send `Authorization: Bearer <METRICS_TOKEN>` (Prometheus: `authorization.credentials_file`). API keys
are not used: a scraper needs none of their scopes (docs/operations.md)."""

from __future__ import annotations

import asyncio
import hmac
import logging

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Gauge, generate_latest
from pydantic import SecretStr
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from service.database import Graph
from service.metrics import LIVE_LAG, NAMESPACE
from service.queries import Q

log = logging.getLogger("accountgraph.metrics")
BACKLOG_SECONDS = 2.0  # a scrape waits this long for the backlog; without it, accountgraph_backlog_up is 0


def scrape_allowed(headers: Headers, token: SecretStr | None) -> bool:
    if token is None:
        return True
    scheme, _, presented = headers.get("authorization", "").strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(),
                                                               token.get_secret_value().encode())


async def backlog(graph: Graph) -> bytes:
    """The backlog gauges, read from the graph now; only `accountgraph_backlog_up 0` when Neo4j does not
    answer within BACKLOG_SECONDS (a scrape never waits on an outage)."""
    registry = CollectorRegistry(auto_describe=False)
    up = Gauge("backlog_up", "1 when the backlog below was read from Neo4j for this scrape, else 0",
               namespace=NAMESPACE, registry=registry)
    try:
        async with asyncio.timeout(BACKLOG_SECONDS):
            [row] = await graph.run(Q.METRICS_BACKLOG)
    except Exception as error:  # Neo4j down or slow: the process's own metrics are still worth having
        log.debug("the backlog was not read for /metrics: %s", error)
        return generate_latest(registry)
    up.set(1)
    gauges = {
        "live_pending_people": ("People marked for the live loop, waiting to be evaluated", "pendingPeople"),
        "live_pending_companies": ("Companies marked for the live loop (account audiences)", "pendingCompanies"),
        "webhook_deliveries_pending": ("Live webhook deliveries waiting in the outbox (due now or later)",
                                       "deliveriesPending"),
        "webhook_deliveries_due": ("Pending webhook deliveries due now (not waiting for a retry)", "deliveriesDue"),
        "webhook_deliveries_dead": ("Dead-lettered webhook deliveries, waiting to be re-driven", "deliveriesDead"),
        "webhook_oldest_pending_seconds": ("Age of the oldest pending webhook delivery (0 when none)",
                                           "oldestPendingSeconds"),
    }
    for name, (description, column) in gauges.items():
        Gauge(name, description, namespace=NAMESPACE, registry=registry).set(row[column])
    return generate_latest(registry)


async def metrics(request: Request) -> Response:
    state = request.app.state
    if not scrape_allowed(request.headers, state.metrics_token):
        return JSONResponse({"error": "/metrics needs 'Authorization: Bearer <METRICS_TOKEN>'"}, status_code=401,
                            headers={"WWW-Authenticate": 'Bearer realm="accountgraph metrics"'})
    LIVE_LAG.set(state.live.lag_seconds())
    body = generate_latest(REGISTRY) + await backlog(state.graph)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
