"""Neo4j down, killed and back: the service starts without it, answers 503 quickly while it is out
of reach, and serves again as soon as it is back, without a restart."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from unittest.mock import ANY

import httpx
import pytest
from pydantic import SecretStr
from starlette.responses import Response

from service.api.context import Context
from service.api.schema import schema
from service.auth import store
from service.auth.keys import Scope
from service.config import Settings
from service.database import SERVICE_DRIVER, DatabaseUnavailable, DriverTimeouts, Graph, Neo4jConnection
from service.neo4j_server import LocalNeo4j, free_port
from service.queries import Q
from service.timeouts import WARMUP_SECONDS
from tests.faults.helpers import connection_of, kill
from tests.helpers import IN_PROCESS_ADMIN, ServerThread, run_cypher

pytestmark = pytest.mark.faults

# A request while Neo4j is down: a refused connection is retried for retry_seconds (about 1 s, then
# 2 s, apart), then answered. Far below what a hang would take (the driver's 30 s and 60 s defaults).
BOUND_SECONDS = SERVICE_DRIVER.retry_seconds + 4
A_KEY = "ag_0123456789ab_" + "A" * 43  # well formed: checking it needs Neo4j
SEGMENTS = {"query": "{ segments { id name } }"}
PERSON_EVENT = {"source": "Marketo 1", "events": [{"type": "person", "Id": "f-1", "Email": "fault@example.com"}]}


def nowhere() -> Neo4jConnection:
    """A Bolt address on which nothing listens."""
    return Neo4jConnection(f"bolt://127.0.0.1:{free_port()}", "neo4j", SecretStr("unused"), "neo4j")


def timed(call: Any) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def assert_unavailable(response: httpx.Response, seconds: float) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert seconds < BOUND_SECONDS, seconds


def wait_ready(client: httpx.Client, within: float = 90 + WARMUP_SECONDS) -> float:
    """Seconds until /readyz says 200 (the service is never restarted): the schema applied, then the
    warm-up done (bounded by WARMUP_SECONDS; on a loaded machine it takes more than a minute)."""
    started = time.monotonic()
    while (ready := client.get("/readyz")).status_code != 200:
        assert ready.status_code == 503, ready.text
        assert time.monotonic() - started < within, ready.text
        time.sleep(0.2)
    return time.monotonic() - started


def test_without_neo4j_health_answers_at_once_and_requests_get_a_quick_503() -> None:
    with ServerThread(nowhere(), wait_ready=False, poll_seconds=3600, sweep_seconds=3600) as server:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            health, seconds = timed(lambda: client.get("/healthz"))
            assert (health.status_code, health.json()) == (200, {"status": "ok"})
            assert seconds < 1, seconds

            ready, seconds = timed(lambda: client.get("/readyz"))
            assert ready.status_code == 503 and ready.json()["status"] == "starting", ready.text
            assert seconds < BOUND_SECONDS, seconds

            graphql, seconds = timed(lambda: client.post("/graphql", json=SEGMENTS,
                                                         headers={"Authorization": f"Bearer {A_KEY}"}))
            assert_unavailable(graphql, seconds)
            assert graphql.json() == {"errors": [{"message": "the database (Neo4j) is unavailable; try again shortly",
                                                  "extensions": {"code": "DATABASE_UNAVAILABLE",
                                                                 "requestId": graphql.headers["X-Request-Id"]}}]}

            events, seconds = timed(lambda: client.post("/events", json=PERSON_EVENT, headers={"X-API-Key": A_KEY}))
            assert_unavailable(events, seconds)
            assert events.json() == {"error": "the database (Neo4j) is unavailable; try again shortly"}

            anonymous = client.post("/graphql", json=SEGMENTS)
            assert anonymous.status_code == 401, "no key: refused before Neo4j is asked"


def test_how_long_the_service_waits_for_neo4j_is_set_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(_env_file=None).driver_timeouts() == SERVICE_DRIVER
    monkeypatch.setenv("NEO4J_CONNECT_TIMEOUT_SECONDS", "1.5")
    monkeypatch.setenv("NEO4J_ACQUIRE_TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("NEO4J_RETRY_SECONDS", "0")
    assert Settings(_env_file=None).driver_timeouts() == DriverTimeouts(connect_seconds=1.5, acquire_seconds=3,
                                                                        retry_seconds=0)


@pytest.mark.asyncio
async def test_the_retry_time_reaches_the_driver() -> None:
    """Neo4j unreachable: with no retry time a read fails at once; with some, after the first retry (~1 s)."""
    elapsed = {}
    for retry in (0.0, 1.5):
        graph = Graph(nowhere(), driver=DriverTimeouts(retry_seconds=retry))
        started = time.monotonic()
        try:
            with pytest.raises(DatabaseUnavailable):
                await graph.run(Q.SEGMENTS_ALL)
        finally:
            await graph.close()
        elapsed[retry] = time.monotonic() - started
    assert elapsed[0.0] < 0.5 and 0.7 < elapsed[1.5] < BOUND_SECONDS, elapsed


@pytest.mark.asyncio
async def test_a_resolver_that_cannot_reach_neo4j_gives_a_coded_error_and_a_503() -> None:
    """Past the key check (here: in-process, no key lookup), Neo4j going away mid-request."""
    graph = Graph(nowhere(), driver=DriverTimeouts(retry_seconds=0.5))
    response = Response()
    response.status_code = None  # type: ignore[assignment]  # as strawberry's HTTP view makes it
    try:
        context = Context(request=None, response=response, graph=graph, key=IN_PROCESS_ADMIN)  # type: ignore[arg-type]
        started = time.monotonic()
        result = await schema.execute(SEGMENTS["query"], context_value=context)
        assert time.monotonic() - started < BOUND_SECONDS
    finally:
        await graph.close()
    assert result.errors is not None and len(result.errors) == 1
    error = result.errors[0]
    assert error.message == "the database (Neo4j) is unavailable; try again shortly"
    assert error.extensions == {"code": "DATABASE_UNAVAILABLE", "requestId": ANY}
    assert response.status_code == 503 and response.headers["retry-after"] == "5"


@pytest.mark.asyncio
async def test_the_service_starts_before_neo4j_and_follows_it_being_killed_and_restarted(
        fault_neo4j: LocalNeo4j) -> None:
    await asyncio.to_thread(fault_neo4j.stop)
    connection = connection_of(fault_neo4j)
    with ServerThread(connection, wait_ready=False, poll_seconds=0.5, sweep_seconds=3600) as server:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            # 1. Neo4j not started yet: alive, not ready, a quick 503.
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").json()["status"] == "starting"
            assert_unavailable(*timed(lambda: client.post("/graphql", json=SEGMENTS,
                                                          headers={"Authorization": f"Bearer {A_KEY}"})))

            # 2. Neo4j starts: the service applies the schema by itself and becomes ready.
            await asyncio.to_thread(fault_neo4j.start)
            await asyncio.to_thread(wait_ready, client)
            graph = Graph(connection, driver=DriverTimeouts(retry_seconds=10))
            try:
                constraints = await run_cypher(graph, "SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names")
                assert "person_email" in constraints[0]["names"], "the schema was applied once Neo4j answered"
                _, key = await store.create(graph, "faults", [Scope.ADMIN])
            finally:
                await graph.close()
            headers = {"Authorization": f"Bearer {key}"}
            answered = client.post("/graphql", json=SEGMENTS, headers=headers)
            assert answered.json() == {"data": {"segments": []}}, answered.text

            # 3. The JVM is killed: 503 at once (no hang), on GraphQL, /events and /readyz; alive still.
            await asyncio.to_thread(kill, fault_neo4j)
            assert_unavailable(*timed(lambda: client.post("/graphql", json=SEGMENTS, headers=headers)))
            assert_unavailable(*timed(lambda: client.post("/events", json=PERSON_EVENT, headers=headers)))
            ready, seconds = timed(lambda: client.get("/readyz"))
            assert ready.status_code == 503 and ready.json()["status"] == "unavailable", ready.text
            assert seconds < BOUND_SECONDS
            assert client.get("/healthz").status_code == 200

            # 4. Neo4j restarts (recovering from the kill): the same service serves reads and writes again.
            await asyncio.to_thread(fault_neo4j.start)
            await asyncio.to_thread(wait_ready, client)
            assert client.post("/graphql", json=SEGMENTS, headers=headers).json() == {"data": {"segments": []}}
            written = client.post("/events", json=PERSON_EVENT, headers=headers)
            assert (written.status_code, written.json()["records"]) == (200, 1), written.text
            person = client.post("/graphql", headers=headers,
                                 json={"query": '{ person(email: "fault@example.com") { email } }'})
            assert person.json() == {"data": {"person": {"email": "fault@example.com"}}}, person.text
