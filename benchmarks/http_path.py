"""The HTTP path measured alone: the service's code at several commits, each served in turn against
the same throwaway Neo4j and graph, with the suite's load client (benchmarks/http_load.py).

    python -m benchmarks.http_path --people 10000 CHECKOUT [CHECKOUT ...]

A CHECKOUT is a directory holding the repository at some commit (`git worktree add --detach DIR
<commit>`); each is served by `python -m service.cli serve` run from that directory with this
interpreter, so only the service's code differs between them. Per checkout and round: person
lookup and the saved audience's count (`segment { now { count } }`) at 1 client (p50, p99) and at
10 clients (requests/s). Rounds alternate the order of the checkouts, so a load that drifts on the
machine does not favour one; the load average is recorded with each figure.

The graph is the suite's synthetic export (benchmarks/generate.py, `as_of` today) imported with
the product's own import, and the suite's Townsend rule saved as a segment and evaluated.
Prints one table (the median over rounds) and writes the figures as JSON (--out, by default
docs/benchmarks/http-path.json; docs/benchmarks/http-path.md discusses them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from benchmarks.generate import NEW_PRODUCT_PAGE
from benchmarks.http_load import load, post
from benchmarks.ingest import throwaway_neo4j
from benchmarks.service_process import serve
from benchmarks.suite import (
    AMOUNT,
    OUR_COUNT,
    OUR_PERSON,
    PASSWORD,
    RESULTS,
    WITHIN_DAYS,
    export_for,
    ingest,
    person_sample,
)
from service.auth import store as keys
from service.auth.keys import Scope
from service.database import Graph, Neo4jConnection
from service.segments import engine
from service.segments import store as segments
from service.segments.presets import audience_rule

SECONDS = 5.0  # per operation, client count, checkout and round


@contextmanager
def served(checkout: Path, connection: Neo4jConnection, log: Path) -> Iterator[str]:
    """`python -m service.cli serve` from `checkout` until /readyz says ready; stopped on exit."""
    with serve(connection, log, checkout, LIVE_POLL_SECONDS="3600", LIVE_SWEEP_SECONDS="3600",
               PYTHONPATH=str(checkout)) as (url, _):
        yield url


async def prepare(connection: Neo4jConnection, people: int, server: Any) -> tuple[str, list[str], str]:
    """Import the export, save and evaluate the segment; (segment id, emails to look up, admin key)."""
    root, _ = export_for(people)
    graph = Graph(connection)
    try:
        figures = await ingest(graph, server, root)
        print(f"imported {figures['nodes']:,} nodes, {figures['relationships']:,} relationships", flush=True)
        segment_id = (await segments.create(graph, "HTTP path benchmark", "benchmark",
                                            audience_rule(AMOUNT, NEW_PRODUCT_PAGE, WITHIN_DAYS)))["id"]
        await engine.evaluate(graph, segment_id)
        emails = await person_sample(graph)
        _, key = await keys.create(graph, "HTTP path benchmark", [Scope.ADMIN])
    finally:
        await graph.close()
    return segment_id, emails, key


async def measure(url: str, key: str, segment_id: str, emails: list[str]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    endpoint = f"{url}/graphql"
    operations = {
        "person": (OUR_PERSON, lambda n: {"email": emails[n % len(emails)]}),
        "audience_count": (OUR_COUNT, lambda n: {"id": segment_id}),
    }
    async with httpx.AsyncClient(timeout=60, headers=headers) as client:  # answers, before anything is timed
        assert (await post(client, endpoint, OUR_PERSON, {"email": emails[0]}))["data"]["person"]
        assert (await post(client, endpoint, OUR_COUNT, {"id": segment_id}))["data"]["segment"]["now"]["count"]
    figures: dict[str, Any] = {}
    for name, (query, variables) in operations.items():
        for clients in (1, 10):
            result = await load(endpoint, query, variables, SECONDS, clients=clients, headers=headers)
            if result.errors:
                raise RuntimeError(f"{name}: {result.errors} errors, the first: {result.first_error}")
            figures[f"{name}/{clients}"] = {**result.summary(), "load_average": round(os.getloadavg()[0], 2)}
    return figures


def table(checkouts: list[Path], rounds: list[dict[str, dict[str, Any]]]) -> str:
    def median(checkout: Path, operation: str, figure: str) -> float:
        return statistics.median(r[str(checkout)][operation][figure] for r in rounds)

    lines = ["| checkout | person p50 / p99 ms (1 client) | person req/s (10) | count p50 / p99 ms (1 client) "
             "| count req/s (10) | load average |", "|---|---|---|---|---|---|"]
    for checkout in checkouts:
        cells = [checkout.name]
        for operation in ("person", "audience_count"):
            cells.append(f"{median(checkout, operation + '/1', 'p50_ms'):.1f} / "
                         f"{median(checkout, operation + '/1', 'p99_ms'):.1f}")
            cells.append(f"{median(checkout, operation + '/10', 'requests_per_second'):.0f}")
        loads = [r[str(checkout)][op]["load_average"] for r in rounds for op in r[str(checkout)]]
        cells.append(f"{min(loads):.1f}-{max(loads):.1f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.http_path", description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="+", type=Path)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "http-path.json")
    arguments = parser.parse_args()
    checkouts = [path.resolve() for path in arguments.checkouts]
    rounds: list[dict[str, dict[str, Any]]] = []
    with throwaway_neo4j("1g", "1g") as server:
        connection = Neo4jConnection(server.uri, "neo4j", SecretStr(PASSWORD), "neo4j")
        segment_id, emails, key = asyncio.run(prepare(connection, arguments.people, server))
        for number in range(arguments.rounds):
            figures: dict[str, dict[str, Any]] = {}
            for checkout in checkouts if number % 2 == 0 else reversed(checkouts):
                print(f"round {number + 1}: {checkout.name} ...", flush=True)
                with served(checkout, connection, server.home / f"service-{checkout.name}-{number}.log") as url:
                    figures[str(checkout)] = asyncio.run(measure(url, key, segment_id, emails))
            rounds.append(figures)
    arguments.out.write_text(json.dumps({"people": arguments.people, "seconds": SECONDS, "cpus": os.cpu_count(),
                                         "rounds": rounds}, indent=2) + "\n")
    print(table(checkouts, rounds))


if __name__ == "__main__":
    main()
