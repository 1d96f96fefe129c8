"""The first request, cold: after the service starts, and after Neo4j restarts under a running
service (docs/reliability.md, "Warm-up"). Part of `make bench` (benchmarks/suite.py: the key
`first_request` of results-<scale>.json), or alone on a graph it imports:

    python -m benchmarks.first_request --people 10000

Each variant starts from a Neo4j just restarted (empty plan cache, cold page cache; the OS file
cache is not dropped): the service is started and /readyz waited for, then the first GraphQL
audience count of a saved segment and the first person lookup are timed; then Neo4j is restarted
under the service, /readyz waited for again (the service warms up again), and both are timed again.
Variants: the service as it is (warm-up before ready) and, for comparison in the same run, with
the warm-up cut to nothing (WARMUP_SECONDS=0.001).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from benchmarks.ingest import PASSWORD
from benchmarks.service_process import environment, serve
from service.config import PROJECT_ROOT
from service.database import Neo4jConnection
from service.neo4j_server import LocalNeo4j

COUNT = "query ($id: ID!) { segment(id: $id) { now { count } } }"
PERSON = "query ($email: String!) { person(email: $email) { email firstName lastName accounts { source sourceKey } } }"
READY_WITHIN_SECONDS = 600
VARIANTS = {"warm_up": {}, "no_warm_up": {"WARMUP_SECONDS": "0.001"}}


@contextmanager
def service(server: LocalNeo4j, log: Path, **settings: str) -> Iterator[tuple[str, dict[str, str]]]:
    """The service against `server` with an admin key made for the run; its URL and the headers to send."""
    connection = Neo4jConnection(server.uri, "neo4j", SecretStr(PASSWORD), "neo4j")
    key = subprocess.run([sys.executable, "-m", "service.cli", "key", "create", "--name", f"first request {log}",
                          "--scope", "admin"], cwd=PROJECT_ROOT, env=environment(connection), check=True,
                         capture_output=True, text=True).stdout.strip()
    with serve(connection, log, ready_within=READY_WITHIN_SECONDS, **settings) as (url, _):
        yield url, {"Authorization": f"Bearer {key}"}


def wait_ready(url: str) -> float:
    """Seconds until /readyz says 200."""
    started = time.monotonic()
    while time.monotonic() - started < READY_WITHIN_SECONDS:
        try:
            if httpx.get(f"{url}/readyz", timeout=10).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the service was not ready within {READY_WITHIN_SECONDS} s after Neo4j restarted")


async def first_requests(url: str, headers: dict[str, str], segment_id: str, email: str) -> dict[str, float]:
    """Seconds of the first audience count, then the first person lookup (each checked for errors)."""
    timed = {}
    async with httpx.AsyncClient(timeout=120, headers=headers) as client:
        for name, query, variables in (("audience_count_s", COUNT, {"id": segment_id}),
                                       ("person_lookup_s", PERSON, {"email": email})):
            started = time.perf_counter()
            response = await client.post(f"{url}/graphql", json={"query": query, "variables": variables})
            timed[name] = round(time.perf_counter() - started, 4)
            if response.status_code != 200 or "errors" in response.json():
                raise RuntimeError(f"{name}: {response.status_code} {response.text[:300]}")
    return timed


async def measure(server: LocalNeo4j, segment_id: str, email: str, work: Path) -> dict[str, Any]:
    """Both variants, each after a Neo4j restart: the first requests after the service starts and
    after Neo4j restarts under it, and how long /readyz took each time."""
    results: dict[str, Any] = {}
    for variant, settings in VARIANTS.items():
        server.stop()
        server.start()
        started = time.monotonic()
        with service(server, work / f"first-request-{variant}.log", **settings) as (url, headers):
            ready = time.monotonic() - started  # `serve` returns once /readyz says ready
            after_start = await first_requests(url, headers, segment_id, email)
            server.stop()
            server.start()
            ready_again = wait_ready(url)
            after_restart = await first_requests(url, headers, segment_id, email)
            warmed = httpx.get(f"{url}/readyz", timeout=10).json().get("warmed")
        results[variant] = {"service_start": {"ready_s": round(ready, 2), **after_start},
                            "neo4j_restart": {"ready_s": round(ready_again, 2), **after_restart},
                            "warmed": warmed}
        print(f"  first request, {variant}: {json.dumps(results[variant])}", flush=True)
    return results


async def _standalone(people: int) -> dict[str, Any]:
    import tempfile

    from benchmarks import suite
    from benchmarks.generate import NEW_PRODUCT_PAGE
    from benchmarks.ingest import throwaway_neo4j
    from service.segments import store
    from service.segments.presets import audience_rule

    root, _ = suite.export_for(people)
    work = Path(tempfile.mkdtemp(prefix="accountgraph-first-request-"))  # kept: the service logs
    with throwaway_neo4j(suite.HEAP, suite.PAGECACHE) as server:
        graph = suite.connect(server)
        try:
            await suite.ingest(graph, server, root)
            segment_id = (await store.create(graph, "Townsend benchmark", "benchmark", audience_rule(
                suite.AMOUNT, NEW_PRODUCT_PAGE, suite.WITHIN_DAYS)))["id"]
            email = (await suite.person_sample(graph))[0]
        finally:
            await graph.close()
        return {"people": people, "first_request": await measure(server, segment_id, email, work)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.first_request", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    print(json.dumps(asyncio.run(_standalone(parser.parse_args().people)), indent=2))


if __name__ == "__main__":
    main()
