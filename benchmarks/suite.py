"""The performance benchmark (`make bench`, `make bench SCALE=S`): for each scale, ingest, audience
evaluation cold and warm, the same audience by the naive N+1 approach and by PostgreSQL, and
GraphQL over HTTP beside the Neo4j GraphQL Library. Results: docs/benchmarks/results-<scale>.json,
then docs/benchmarks/README.md and its plots (benchmarks/report.py).

    python -m benchmarks.suite S M L

Per scale:
1. The synthetic export (benchmarks/generate.py) with `as_of` = today, so the rule's 30-day window
   holds a month of visits: .cache/bench/suite-<N>-<date>/ (generated once a day, not timed).
2. A throwaway local Neo4j (HEAP, PAGECACHE below); migrate; every source then MDM imported with the
   product's own import (`ingest_path`): rows/s and nodes+relationships/s.
3. The Townsend-style rule (`audience_rule(AMOUNT, NEW_PRODUCT_PAGE, 30)`: company closed-won
   total over all MDM-linked accounts > AMOUNT, and a visit to the page in 30 days) evaluated by
   the product's engine over the whole population: every member with the explanation of each
   condition (`engine.all_members`), and the count. Cold = the first run after a Neo4j restart
   (empty page cache and query cache; the OS file cache is not dropped); warm = repeated runs.
4. The same set computed by the naive approach (benchmarks/naive.py) and by PostgreSQL
   (benchmarks/postgres.py: loaded from the same files) in two variants: a recursive CTE at query
   time, and company totals maintained by triggers (the same precomputation as the graph's company
   figures; built after the load, then its triggers checked by writes against a from-scratch
   computation); every set must be equal, or the run fails.
5. A saved segment of the rule (evaluated, so its membership is stored), then GraphQL over HTTP:
   person lookup, the first 100 members of the saved segment, the audience count, against the
   product's service (a subprocess) and then the Neo4j GraphQL Library server
   (benchmarks/neo4j_graphql), answers compared; each operation with 10 clients (throughput), then
   with 1 client (latency without queueing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
import tomllib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from benchmarks import first_request, naive, neo4j_graphql, postgres
from benchmarks.generate import MANIFEST, NEW_PRODUCT_PAGE
from benchmarks.http_load import CLIENTS, Variables, load, post
from benchmarks.ingest import ImportFailed, cpu_seconds, export, graph_counts, throwaway_neo4j, timed_import
from benchmarks.realtime import service
from service.config import PROJECT_ROOT
from service.database import Graph, Neo4jConnection
from service.ingest import figures
from service.neo4j_server import LocalNeo4j, free_port, neo4j_version
from service.queries import Mode, Template
from service.segments import engine, store
from service.segments.compiler import Compiled
from service.segments.presets import audience_rule
from service.segments.rules import parse_rule

CACHE = PROJECT_ROOT / ".cache" / "bench"
RESULTS = PROJECT_ROOT / "docs" / "benchmarks"
PASSWORD = "bench-password"
# Sized for the 2-core, 24 GiB machine: Neo4j 4 GiB heap + 6 GiB page cache (the L store fits),
# PostgreSQL 2 GiB shared buffers, the rest for Python's import batches and the OS file cache.
HEAP = "4g"
PAGECACHE = "6g"
AMOUNT = 100_000.0
WITHIN_DAYS = 30
SEED = 42
PERSON_SAMPLE = 200  # emails the person lookups cycle through
CHECKED_PEOPLE = 20  # of which compared between the two GraphQL servers
EXPLAINED_RUNS = 3
STORED_MEMBERS = "MATCH (:Segment {id: $id})<-[:IN_SEGMENT]-(p:Person) RETURN p.email AS email"


@dataclass(frozen=True)
class Scale:
    name: str
    people: int
    warm_runs: int
    naive_runs: int
    http_seconds: float  # per operation and server


SCALES = {
    "S": Scale("S", 10_000, warm_runs=10, naive_runs=3, http_seconds=5),
    "M": Scale("M", 100_000, warm_runs=10, naive_runs=1, http_seconds=10),
    "L": Scale("L", 1_000_000, warm_runs=5, naive_runs=1, http_seconds=15),
}

OUR_PERSON = """query ($email: String!) { person(email: $email) {
  email firstName lastName title accounts { source sourceKey name } } }"""
OUR_MEMBERS = ("query ($id: ID!) { segment(id: $id) { members(first: 100) { "
               "people { email firstName lastName } } } }")
OUR_COUNT = """query ($id: ID!) { segment(id: $id) { now { count } } }"""


# ---- data and servers ---------------------------------------------------------------------------


def export_for(people: int) -> tuple[Path, float | None]:
    """Today's export for `people` (generated if missing; older days' exports removed)."""
    today = datetime.now(UTC).date()
    root = CACHE / f"suite-{people}-{today.isoformat()}"
    for stale in CACHE.glob(f"suite-{people}-*"):
        if stale != root:
            shutil.rmtree(stale, ignore_errors=True)
    return export(root, people, SEED, today)


def commit() -> str:
    """The code measured: the commit, marked when the working tree differs from it."""
    def git(*arguments: str) -> str:
        return subprocess.run(["git", *arguments], cwd=PROJECT_ROOT, capture_output=True, text=True).stdout.strip()
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!docs/benchmarks")  # results aside
    return git("rev-parse", "--short", "HEAD") + (" (modified)" if changed else "")


def connect(server: LocalNeo4j) -> Graph:
    return Graph(Neo4jConnection(server.uri, "neo4j", SecretStr(PASSWORD), "neo4j"))


def peak_rss_mib(pid: int | None) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, TypeError):
        return None
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def directory_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def percentiles(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    return {"runs": len(ordered), "p50_s": round(statistics.median(ordered), 4),
            "p95_s": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 4),
            "min_s": round(ordered[0], 4), "max_s": round(ordered[-1], 4)}


async def timed(work: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = await work()
    return time.perf_counter() - started, value


# ---- 2. ingest -----------------------------------------------------------------------------------


async def ingest(graph: Graph, server: LocalNeo4j, root: Path) -> dict[str, Any]:
    manifest = tomllib.loads((root / MANIFEST).read_text())
    await graph.migrate()
    pid = server.running_pid()
    neo4j_cpu = cpu_seconds(pid)
    imports = []
    try:
        for source in manifest["sources"]:
            imports.append(await timed_import(graph, pid, root / source["folder"], source["name"]))
        imports.append(await timed_import(graph, pid, root / manifest["mdm"]["folder"], None, mdm=True))
    except ImportFailed as failed:
        raise SystemExit(f"import failed: {failed}") from failed
    counts = await graph_counts(graph)
    rows = sum(f.rows for f in imports)
    seconds = sum(f.seconds for f in imports)
    elements = counts["nodes"] + counts["relationships"]
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds),
            "nodes": counts["nodes"], "relationships": counts["relationships"],
            "elements_per_second": round(elements / seconds),
            "python_cpu_seconds": round(sum(f.python_cpu_seconds for f in imports), 1),
            "neo4j_cpu_seconds": round(cpu_seconds(pid) - neo4j_cpu, 1),
            "per_source": {f.source: {"rows": f.rows, "seconds": round(f.seconds, 2)} for f in imports},
            "labels": counts["labels"], "types": counts["types"]}


# ---- 3. the audience -----------------------------------------------------------------------------


async def compiled_rule(graph: Graph) -> Compiled:
    return await engine.compile_for(graph, parse_rule(audience_rule(AMOUNT, NEW_PRODUCT_PAGE, WITHIN_DAYS)))


async def members(graph: Graph, compiled: Compiled) -> set[str]:
    return {row["email"] for row in await engine.all_members(graph, compiled, 10**9)}


async def profile(graph: Graph, compiled: Compiled, template: Template) -> dict[str, Any]:
    """PROFILE of one evaluation: db hits and rows per operator, as Neo4j ran it."""
    text = "PROFILE " + compiled.render(template).text
    async with graph.driver.session(database=graph.database) as session:
        result = await session.run(text, {**compiled.parameters, "first": 10**9, "after": None})
        plan = (await result.consume()).profile
    operators: list[dict[str, Any]] = []

    def walk(step: dict[str, Any]) -> None:
        operators.append({"operator": step["operatorType"], "db_hits": step.get("dbHits", 0),
                          "rows": step.get("rows", 0), "details": str(step.get("args", {}).get("Details", ""))[:200]})
        for child in step.get("children", []):
            walk(child)

    walk(plan)
    return {"db_hits": sum(o["db_hits"] for o in operators), "operators": operators}


async def audience(server: LocalNeo4j, scale: Scale) -> tuple[dict[str, Any], str, set[str]]:
    """The saved segment of the rule evaluated (members computed and stored, as the product does):
    cold, the first run after a Neo4j restart, and warm; then the count and the explained member list."""
    graph = connect(server)
    try:
        segment_id = (await store.create(graph, "Townsend benchmark", "benchmark",
                                         audience_rule(AMOUNT, NEW_PRODUCT_PAGE, WITHIN_DAYS)))["id"]
    finally:
        await graph.close()
    server.stop()
    server.start()
    graph = connect(server)
    try:
        cold_seconds, _ = await timed(lambda: engine.evaluate(graph, segment_id))
        warm = [(await timed(lambda: engine.evaluate(graph, segment_id)))[0] for _ in range(scale.warm_runs)]
        answer = {row["email"] for row in await graph.run_adhoc(STORED_MEMBERS, Mode.READ, id=segment_id)}
        compiled = await compiled_rule(graph)
        counts = [await timed(lambda: engine.count(graph, compiled)) for _ in range(scale.warm_runs)]
        explained = [await timed(lambda: members(graph, compiled)) for _ in range(EXPLAINED_RUNS)]
        plan = await profile(graph, compiled, Template.SEGMENT_COUNT)
    finally:
        await graph.close()
    if {count for _, count in counts} != {len(answer)} or any(found != answer for _, found in explained):
        raise SystemExit(f"the count, the explained members and the evaluation disagree ({len(answer)} members)")
    return {"members": len(answer), "cold_s": round(cold_seconds, 4), "warm": percentiles(warm),
            "count_warm": percentiles([seconds for seconds, _ in counts]),
            "explained_members_warm": percentiles([seconds for seconds, _ in explained]),
            "profile_of_count": plan}, segment_id, answer


async def naive_audience(server: LocalNeo4j, scale: Scale, expected: set[str]) -> dict[str, Any]:
    graph = connect(server)
    try:
        runs, queries = [], 0
        for _ in range(scale.naive_runs):
            seconds, (answer, queries) = await timed(
                lambda: naive.audience(graph.driver, graph.database, AMOUNT, NEW_PRODUCT_PAGE, WITHIN_DAYS))
            check_same("naive", answer, expected)
            runs.append(seconds)
    finally:
        await graph.close()
    return {"queries": queries, **percentiles(runs)}


POSTGRES_VARIANTS: dict[str, Callable[[postgres.Postgres, float, str, int], set[str]]] = {
    "recursive_cte": postgres.audience,  # companies and their totals at query time
    "maintained_totals": postgres.audience_totals,  # read from the tables the triggers keep
}


def postgres_audience(root: Path, scale: Scale, expected: set[str]) -> dict[str, Any]:
    """Both PostgreSQL variants: load (what the CTE reads), then build the maintained tables; each cold
    (the first query after a PostgreSQL restart) and warm, every answer checked against the product's;
    then the triggers' self-check. The CTE's figures at the top level (as before the second variant), the
    maintained variant's under "maintained_totals"."""
    postgres.ensure_installed()
    with postgres.throwaway_postgres() as pg:
        loaded = postgres.load(pg, root)
        built = postgres.build_totals(pg)
        cold: dict[str, float] = {}
        warm: dict[str, dict[str, float]] = {}
        for variant, ask in POSTGRES_VARIANTS.items():
            pg.restart()
            cold[variant], answer = timed_sync(partial(ask, pg, AMOUNT, NEW_PRODUCT_PAGE, WITHIN_DAYS))
            check_same(f"PostgreSQL ({variant})", answer, expected)
        for variant, ask in POSTGRES_VARIANTS.items():
            runs = [timed_sync(partial(ask, pg, AMOUNT, NEW_PRODUCT_PAGE, WITHIN_DAYS)) for _ in range(scale.warm_runs)]
            for _, answer in runs:
                check_same(f"PostgreSQL ({variant})", answer, expected)
            warm[variant] = percentiles([seconds for seconds, _ in runs])
        print("  PostgreSQL triggers' self-check ...", flush=True)
        try:
            triggers = postgres.check_triggers(pg, AMOUNT, NEW_PRODUCT_PAGE, WITHIN_DAYS)
        except AssertionError as failed:
            raise SystemExit(str(failed)) from failed
        return {"load": loaded, "cold_s": round(cold["recursive_cte"], 4), "warm": warm["recursive_cte"],
                "maintained_totals": {
                    "build": {"rows": built["rows"], "seconds": round(built["seconds"], 3)},
                    "load_then_build_s": round(loaded["seconds"]["total"] + built["seconds"], 3),
                    "cold_s": round(cold["maintained_totals"], 4), "warm": warm["maintained_totals"],
                    "trigger_check": triggers},
                "postmaster_peak_rss_mib": peak_rss_mib(pg.running_pid())}


def timed_sync(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = work()
    return time.perf_counter() - started, value


def check_same(name: str, answer: set[str], expected: set[str]) -> None:
    if answer != expected:
        raise SystemExit(f"{name} found {len(answer)} people, the product {len(expected)}: "
                         f"{len(answer - expected)} only in {name}, {len(expected - answer)} only in the product")


# ---- 5. GraphQL over HTTP ------------------------------------------------------------------------


# For each of PERSON_SAMPLE random starting points (three letters, then a random position among the
# next SAMPLE_SKIP people, as emails bunch at common first names), a person with an account, read in
# email order through the index: it costs the same at 10k and 1M people (a scan of all, sorted, took
# over a minute at 1M).
SAMPLE = """
UNWIND $starts AS start
CALL (start) {
  MATCH (p:Person) WHERE p.email >= start.from AND (p)-[:ASSOCIATED_WITH]->()
  WITH p.email AS email ORDER BY email LIMIT $skip
  RETURN collect(email) AS emails
}
WITH start, emails WHERE size(emails) > 0
RETURN DISTINCT emails[start.skip % size(emails)] AS email
"""
SAMPLE_SKIP = 1_000  # people read after each starting point


async def person_sample(graph: Graph) -> list[str]:
    """PERSON_SAMPLE people with an account (fewer if starting points meet), in a fixed random order."""
    generator = random.Random(SEED)
    starts = [{"from": "".join(generator.choices("abcdefghijklmnopqrstuvwxyz", k=3)),
               "skip": generator.randrange(SAMPLE_SKIP)} for _ in range(PERSON_SAMPLE)]
    emails = [row["email"] for row in await graph.run_adhoc(SAMPLE, Mode.READ, starts=starts, skip=SAMPLE_SKIP)]
    generator.shuffle(emails)
    return emails


def _our_person(data: dict[str, Any]) -> dict[str, Any]:
    person = data["data"]["person"]
    return {} if person is None else {**person, "accounts": sorted(person["accounts"],
                                                                   key=lambda a: (a["source"], a["sourceKey"]))}


async def graphql_over_http(server: LocalNeo4j, scale: Scale, segment_id: str, count: int,
                            emails: list[str], work: Path) -> dict[str, Any]:
    count_variables = {"minCompanyWonAmount": AMOUNT, "visitedPage": NEW_PRODUCT_PAGE, "withinDays": WITHIN_DAYS}
    operations = {
        "person": (OUR_PERSON, neo4j_graphql.PERSON, lambda n: {"email": emails[n % len(emails)]}, 20),
        "members_first_100": (OUR_MEMBERS, neo4j_graphql.MEMBERS, lambda n: {"id": segment_id}, 5),
        "audience_count": (OUR_COUNT, neo4j_graphql.COUNT, lambda n: {"id": segment_id}, 1),
    }
    figures: dict[str, dict[str, Any]] = {name: {} for name in operations}  # at 10 clients
    one_client: dict[str, dict[str, Any]] = {name: {} for name in operations}
    answers: dict[str, Any] = {}
    with service(server, work / "service.log") as (url, _, headers):
        endpoint = f"{url}/graphql"
        async with httpx.AsyncClient(timeout=120, headers=headers) as client:
            answers["ours"] = {
                "people": [_our_person(await post(client, endpoint, OUR_PERSON, {"email": e}))
                           for e in emails[:CHECKED_PEOPLE]],
                "members": [p["email"] for p in (await post(client, endpoint, OUR_MEMBERS, {"id": segment_id}))
                            ["data"]["segment"]["members"]["people"]],
                "count": (await post(client, endpoint, OUR_COUNT, {"id": segment_id}))
                ["data"]["segment"]["now"]["count"]}
        for name, (query, _, variables, warm_up) in operations.items():
            print(f"  accountgraph {name} ...", flush=True)
            figures[name]["accountgraph"], one_client[name]["accountgraph"] = await throughput_and_latency(
                endpoint, query, variables, scale, warm_up, headers)
    neo4j_graphql.install()
    with neo4j_graphql.serve(server.uri, "neo4j", PASSWORD, free_port()) as endpoint:
        async with httpx.AsyncClient(timeout=120) as client:
            answers["library"] = {
                "people": [neo4j_graphql.person_answer(await post(client, endpoint, neo4j_graphql.PERSON, {"email": e}))
                           for e in emails[:CHECKED_PEOPLE]],
                "members": neo4j_graphql.members_answer(
                    await post(client, endpoint, neo4j_graphql.MEMBERS, {"id": segment_id})),
                "count": neo4j_graphql.count_answer(await post(client, endpoint, neo4j_graphql.COUNT, count_variables))}
        for name, (_, query, variables, warm_up) in operations.items():
            print(f"  @neo4j/graphql {name} ...", flush=True)
            library_variables = (lambda n: count_variables) if name == "audience_count" else variables
            figures[name]["neo4j_graphql"], one_client[name]["neo4j_graphql"] = await throughput_and_latency(
                endpoint, query, library_variables, scale, warm_up)
    ours, library = answers["ours"], answers["library"]
    same = {"people": ours["people"] == library["people"], "members": ours["members"] == library["members"],
            "count": ours["count"] == library["count"] == count}
    if not all(same.values()):
        raise SystemExit(f"the two GraphQL servers disagree: {same}")
    return {"clients": CLIENTS, "seconds_per_operation": scale.http_seconds, "same_answers": same,
            "operations": figures,
            "one_client": {"clients": 1, "seconds_per_operation": scale.http_seconds, "operations": one_client}}


async def throughput_and_latency(endpoint: str, query: str, variables: Variables, scale: Scale, warm_up: int,
                                 headers: dict[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """One operation at CLIENTS concurrent clients (throughput), then at one client (latency without
    queueing behind other requests): each for the scale's seconds after its warm-up."""
    loaded = await load(endpoint, query, variables, scale.http_seconds, warm_up=warm_up, headers=headers)
    alone = await load(endpoint, query, variables, scale.http_seconds, clients=1, warm_up=warm_up, headers=headers)
    return loaded.summary(), alone.summary()


# ---- one scale ---------------------------------------------------------------------------------


async def run_scale(scale: Scale) -> dict[str, Any]:
    print(f"== scale {scale.name}: {scale.people:,} people", flush=True)
    root, generation_seconds = export_for(scale.people)
    results: dict[str, Any] = {
        "scale": scale.name, "people": scale.people, "commit": commit(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "as_of": tomllib.loads((root / MANIFEST).read_text())["as_of"],
        "generated_seconds": generation_seconds,
        "rule": {"minCompanyWonAmount": AMOUNT, "visitedPage": NEW_PRODUCT_PAGE, "withinDays": WITHIN_DAYS},
        "machine": {"cpus": os.cpu_count(),
                    "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
                    "python": platform.python_version(), "neo4j": neo4j_version(), "neo4j_heap": HEAP,
                    "neo4j_pagecache": PAGECACHE},
    }
    with throwaway_neo4j(HEAP, PAGECACHE) as server, tempfile.TemporaryDirectory(prefix="accountgraph-suite-") as work:
        graph = connect(server)
        try:
            results["ingest"] = await ingest(graph, server, root)
        finally:
            await graph.close()
        results["neo4j_store_mib"] = round(directory_mib(server.home / "data"), 1)
        print("  audience (cold, warm) ...", flush=True)
        results["audience"], segment_id, answer = await audience(server, scale)
        print(f"  naive ({scale.naive_runs} run(s)) ...", flush=True)
        results["naive"] = await naive_audience(server, scale, answer)
        print("  PostgreSQL ...", flush=True)
        results["postgres"] = postgres_audience(root, scale, answer)
        graph = connect(server)
        try:
            emails = await person_sample(graph)
        finally:
            await graph.close()
        print("  GraphQL over HTTP ...", flush=True)
        results["graphql"] = await graphql_over_http(server, scale, segment_id, len(answer), emails, Path(work))
        print("  first request (after the service starts, after Neo4j restarts) ...", flush=True)
        results["first_request"] = await first_request.measure(server, segment_id, emails[0], Path(work))
        results["neo4j_peak_rss_mib"] = peak_rss_mib(server.running_pid())
        results["figures_verified"] = await verify_figures(server)
    results["python_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return results


async def verify_figures(server: LocalNeo4j) -> dict[str, Any]:
    """`accountgraph verify` on the benchmark graph after its run: every company's figures must be
    what its deals add up to, or the run fails."""
    graph = connect(server)
    try:
        seconds, drifts = await timed(lambda: figures.verify(graph))
    finally:
        await graph.close()
    if drifts:
        raise SystemExit("company figures drifted: " + "; ".join(map(str, drifts[:5])))
    print(f"  company figures verified in {seconds:.1f} s", flush=True)
    return {"drifts": 0, "seconds": round(seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.suite", description=__doc__.splitlines()[0])
    parser.add_argument("scales", nargs="*", default=list(SCALES), choices=list(SCALES))
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in args.scales:
        started = time.perf_counter()
        results = asyncio.run(run_scale(SCALES[name]))
        results["benchmark_seconds"] = round(time.perf_counter() - started, 1)
        path = RESULTS / f"results-{name}.json"
        path.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"{name}: written {path.relative_to(PROJECT_ROOT)} ({results['benchmark_seconds']} s)", flush=True)
    from benchmarks import report
    report.main()


if __name__ == "__main__":
    main()
