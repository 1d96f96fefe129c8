"""Load test: concurrent writers and readers against the real service, then an exactly-once check.

    python -m benchmarks.load                     # 3 processes, 20 writers x 250 visits, 4 readers (`make load`)
    python -m benchmarks.load --processes 1       # the same against one service process
    python -m benchmarks.load --clients 4 --events 25 --readers 2 --people 300 --out /tmp/load
    python -m benchmarks.load --via events        # each visit a POST /events of one event instead
    python -m benchmarks.load --checkout /tmp/old --out /tmp/before   # the service of another checkout

1. A throwaway local Neo4j (free loopback ports, temporary home; heap 2g, page cache 1g), or the
   one `run_load` is given (the test suite's).
2. A generated export of --people people (as of today, so the 30-day window is live), imported
   through the product's pipeline; a saved segment (the Townsend rule: company closed-won total over
   100,000 and a visit to the new product page in the last 30 days) evaluated once, so every visit
   marks its person for the live loop; a `write` key for the writers and a `read` key for the readers.
3. The real service in --processes subprocesses (`python -m service.cli serve`, LIVE_POLL_SECONDS=1),
   each on its own port, sharing nothing but Neo4j (as replicas behind a load balancer would).
4. --clients writers, writer i on process i mod --processes, each sending --events web visits one
   `recordWebVisits` mutation at a time
   (or, with --via events, one `POST /events` of one event at a time; unique ids, Marketo 1 people
   in turn, visited now), as fast as the service answers; --readers
   readers meanwhile (reader i on process i mod --processes) alternating the segment's member count
   (`segment { memberCount now { count } }`) and the audience count, until the writers are done.
   Every answer other than a 200 without GraphQL errors (and, for a write, `records: 1`) is an
   error, counted by kind. A subscriber of the segment (`audienceChanges`) on the last process
   times each person's entry from the start of the request that sent their first visit, split by
   whether that request went to the subscriber's process or another.
5. Then: every visit id is in the graph exactly once, as one WebVisit linked by one VISITED to the
   person it was sent for, and no other visit carries the run's prefix; and the seconds the live loop
   took to evaluate every person marked by the run.

Prints a report (throughput, latency percentiles, errors, the check) and writes it as JSON and
Markdown (--out, default docs/benchmarks/: load.json, load.md). Loopback only; bounded in count
(clients x events writes) and in time (--max-seconds for the whole stream). Exit status 1 unless
there were no errors and every event was found exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
import tomllib
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import websockets
from pydantic import SecretStr

from benchmarks.generate import MANIFEST, NEW_PRODUCT_PAGE, generate
from benchmarks.service_process import serve
from service.auth import store as keys
from service.auth.keys import Scope
from service.config import PROJECT_ROOT, get_settings
from service.database import Graph, Neo4jConnection
from service.ingest.pipeline import ingest_path
from service.neo4j_server import LocalNeo4j, free_port, install, neo4j_version
from service.segments import engine, store
from service.segments.presets import audience_rule

RESULTS = PROJECT_ROOT / "docs" / "benchmarks"
PASSWORD = "load-password"
SOURCE = "Marketo 1"
THRESHOLD = 100_000.0
WITHIN_DAYS = 30
VISIT = """mutation ($source: String!, $id: String!, $person: String!, $url: String!, $at: DateTime!) {
  recordWebVisits(source: $source, visits: [{id: $id, personId: $person, url: $url, visitedAt: $at}]) { records } }"""
SEGMENT_COUNT = "query ($id: ID!) { segment(id: $id) { memberCount now { count } } }"
AUDIENCE_COUNT = """query ($min: Float!, $page: String!, $days: Int!) {
  audience(minCompanyWonAmount: $min, visitedPage: $page, withinDays: $days) { count } }"""
# Ad-hoc Cypher for the load test's checks only; the product's queries live in cypher/.
FIND_VISITS = """
UNWIND $ids AS id
OPTIONAL MATCH (v:WebVisit {source: $source, sourceKey: id})
OPTIONAL MATCH (p:Person)-[:VISITED]->(v)
RETURN id, count(DISTINCT v) AS nodes, collect(p.email) AS visitors
"""
VIAS = ("graphql", "events")
RUN_VISITS = "MATCH (v:WebVisit) WHERE v.source = $source AND v.sourceKey STARTS WITH $prefix RETURN count(v) AS n"
PENDING = "RETURN COUNT { (:PendingEvaluation) } AS n"
SUBSCRIBE = "subscription ($id: ID) { audienceChanges(segmentId: $id) { email change } }"
QUIET_SECONDS = 3.0  # the subscriber stops once the live loop has caught up and it heard nothing this long


@dataclass
class Stream:
    """Latencies and errors of one kind of request."""

    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def summary(self, seconds: float) -> dict[str, Any]:
        ok = len(self.latencies)
        return {"requests": ok + sum(self.errors.values()), "ok": ok, "errors": dict(self.errors),
                "per_second": round(ok / seconds, 1) if seconds else 0.0, "latency_ms": percentiles(self.latencies)}


def percentiles(seconds: list[float]) -> dict[str, float]:
    if len(seconds) < 2:
        return {name: round(1000 * seconds[0], 1) if seconds else 0.0 for name in ("p50", "p95", "p99", "max")}
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")
    return {"p50": round(1000 * cuts[49], 1), "p95": round(1000 * cuts[94], 1), "p99": round(1000 * cuts[98], 1),
            "max": round(1000 * max(seconds), 1)}


def _error_kind(response: httpx.Response) -> str | None:
    """None for a good answer; else a short description (status, first GraphQL error)."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    body = response.json()
    if body.get("errors"):
        return f"GraphQL: {body['errors'][0].get('message', '?')[:80]}"
    return None


# ---- the data set and the service ------------------------------------------------------------


async def prepare(graph: Graph, root: Path, people: int) -> dict[str, Any]:
    """Generate and import the export, save the segment, make the keys; what the clients need."""
    started = time.perf_counter()
    generate(root, people, seed=7, as_of=datetime.now(UTC).date())
    await graph.migrate()
    manifest = tomllib.loads((root / MANIFEST).read_text())
    for source in manifest["sources"]:
        await ingest_path(graph, root / source["folder"], source["name"])
    await ingest_path(graph, root / manifest["mdm"]["folder"], mdm=True)
    segment = await store.create(graph, f"Load test {uuid.uuid4().hex[:8]}", "benchmarks/load.py",
                                 audience_rule(THRESHOLD, NEW_PRODUCT_PAGE, WITHIN_DAYS))
    evaluation = await engine.evaluate(graph, segment["id"])
    folder = next(root / s["folder"] for s in manifest["sources"] if s["name"] == SOURCE)
    with (folder / "people.csv").open(newline="", encoding="utf-8") as handle:
        people_of_source = {row["Id"].strip(): row["Email"].strip().lower() for row in csv.DictReader(handle)}
    _, write_key = await keys.create(graph, "load test: writers", [Scope.WRITE])
    _, read_key = await keys.create(graph, "load test: readers", [Scope.READ])
    return {"segment": segment["id"], "members": evaluation["count"], "people": people_of_source,
            "write_key": write_key, "read_key": read_key, "seconds": time.perf_counter() - started}


# ---- the clients ------------------------------------------------------------------------------


def _event(visit: dict[str, str]) -> dict[str, Any]:
    """The visit as a POST /events body of one event."""
    return {"source": visit["source"], "events": [{"type": "webVisit", "Id": visit["id"], "PersonId": visit["person"],
                                                    "Url": visit["url"], "VisitedAt": visit["at"]}]}


async def writer(client: httpx.AsyncClient, visits: list[dict[str, str]], stream: Stream, deadline: float,
                 via: str = "graphql", first_sent: dict[str, tuple[float, int]] | None = None,
                 process: int = 0) -> None:
    """Send the visits one at a time; `first_sent` notes, per person id, when (and through which
    process) the request carrying their first visit began."""
    for visit in visits:
        if time.monotonic() > deadline:
            stream.errors["not sent: --max-seconds reached"] += 1
            continue
        started = time.perf_counter()
        if first_sent is not None:
            first_sent.setdefault(visit["person"], (started, process))
        try:
            if via == "events":
                response = await client.post("/events", json=_event(visit))
            else:
                response = await client.post("/graphql", json={"query": VISIT, "variables": visit})
        except httpx.HTTPError as error:
            stream.errors[f"transport: {type(error).__name__}"] += 1
            continue
        kind = _error_kind(response)
        records = response.json().get("records") if via == "events" else \
            kind is None and response.json()["data"]["recordWebVisits"]["records"]
        if kind is None and records != 1:
            kind = "records != 1"
        if kind is None:
            stream.latencies.append(time.perf_counter() - started)
        else:
            stream.errors[kind] += 1


async def reader(client: httpx.AsyncClient, segment_id: str, stream: Stream, done: asyncio.Event) -> None:
    requests = [{"query": SEGMENT_COUNT, "variables": {"id": segment_id}},
                {"query": AUDIENCE_COUNT,
                 "variables": {"min": THRESHOLD, "page": NEW_PRODUCT_PAGE, "days": WITHIN_DAYS}}]
    turn = 0
    while not done.is_set():
        started = time.perf_counter()
        try:
            response = await client.post("/graphql", json=requests[turn % 2])
        except httpx.HTTPError as error:
            stream.errors[f"transport: {type(error).__name__}"] += 1
            continue
        finally:
            turn += 1
        kind = _error_kind(response)
        if kind is None:
            stream.latencies.append(time.perf_counter() - started)
        else:
            stream.errors[kind] += 1


@dataclass
class Heard:
    """What the subscriber heard: when each person entered, and entries heard more than once."""

    entered: dict[str, float] = field(default_factory=dict)
    repeated: int = 0
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)


async def subscriber(url: str, key: str, segment_id: str, heard: Heard, stop: asyncio.Event) -> None:
    """Subscribe to the segment's changes on `url` and note when each entry arrives, until `stop`."""
    async with websockets.connect(url.replace("http", "ws", 1) + "/graphql",
                                  subprotocols=[websockets.Subprotocol("graphql-transport-ws")]) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe",
                                      "payload": {"query": SUBSCRIBE, "variables": {"id": segment_id}}}))
        await asyncio.sleep(1.0)  # the subscription is registered before the first write
        heard.subscribed.set()
        while True:
            try:
                message = json.loads(await asyncio.wait_for(socket.recv(), QUIET_SECONDS))
            except TimeoutError:
                if stop.is_set():
                    return
                continue
            if message.get("type") != "next":
                raise RuntimeError(f"the subscription ended: {message}")
            change = message["payload"]["data"]["audienceChanges"]
            if change["change"] == "ENTERED":
                if change["email"] in heard.entered:
                    heard.repeated += 1
                else:
                    heard.entered[change["email"]] = time.perf_counter()


def change_latency(heard: Heard, first_sent: dict[str, tuple[float, int]], people: dict[str, str],
                   subscriber_process: int) -> dict[str, Any]:
    """From the start of the request carrying a person's first visit to the subscriber hearing them
    enter: for requests to the subscriber's own process and to the others."""
    email_of = {person: people[person] for person in first_sent}
    same: list[float] = []
    other: list[float] = []
    for person, (sent, process) in first_sent.items():
        if (at := heard.entered.get(email_of[person])) is not None:
            (same if process == subscriber_process else other).append(at - sent)
    return {"entered": len(heard.entered), "heard_twice": heard.repeated,
            "same_process": {"changes": len(same), "latency_ms": percentiles(same)},
            "other_process": {"changes": len(other), "latency_ms": percentiles(other)}}


async def drive(urls: list[str], prepared: dict[str, Any], run_id: str, clients: int, events: int, readers: int,
                max_seconds: float, via: str = "graphql") -> tuple[dict[str, Any], list[dict[str, str]]]:
    person_ids = sorted(prepared["people"])
    now = datetime.now(UTC).isoformat()
    plans = [[{"source": SOURCE, "id": f"{run_id}-{c:02d}-{n:04d}",
               "person": person_ids[(c * events + n) % len(person_ids)], "url": NEW_PRODUCT_PAGE, "at": now}
              for n in range(events)] for c in range(clients)]
    writes, reads = Stream(), Stream()
    done, stop = asyncio.Event(), asyncio.Event()
    heard = Heard()
    first_sent: dict[str, tuple[float, int]] = {}
    limits = httpx.Limits(max_connections=clients + readers, max_keepalive_connections=clients + readers)
    timeout = httpx.Timeout(60.0)
    write_headers = {"Authorization": f"Bearer {prepared['write_key']}"}
    read_headers = {"Authorization": f"Bearer {prepared['read_key']}"}
    async with AsyncExitStack() as stack:
        w = [await stack.enter_async_context(httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout,
                                                                headers=write_headers)) for url in urls]
        r = [await stack.enter_async_context(httpx.AsyncClient(base_url=url, limits=limits, timeout=timeout,
                                                                headers=read_headers)) for url in urls]
        listening = asyncio.create_task(subscriber(urls[-1], prepared["read_key"], prepared["segment"], heard, stop))
        await asyncio.wait_for(heard.subscribed.wait(), 30)
        deadline = time.monotonic() + max_seconds
        started = time.perf_counter()
        reading = [asyncio.create_task(reader(r[i % len(urls)], prepared["segment"], reads, done))
                   for i in range(readers)]
        await asyncio.gather(*(writer(w[c % len(urls)], plan, writes, deadline, via, first_sent, c % len(urls))
                               for c, plan in enumerate(plans)))
        seconds = time.perf_counter() - started
        done.set()
        await asyncio.gather(*reading)
        read_seconds = time.perf_counter() - started
        stop.set()
        await listening
    results = {"seconds": round(seconds, 2), "writes": writes.summary(seconds), "reads": reads.summary(read_seconds),
               "subscriber": change_latency(heard, first_sent, prepared["people"], len(urls) - 1)}
    return results, [visit for plan in plans for visit in plan]


# ---- the check --------------------------------------------------------------------------------


async def check_exactly_once(graph: Graph, run_id: str, sent: list[dict[str, str]],
                             people: dict[str, str]) -> dict[str, int]:
    records, _, _ = await graph.driver.execute_query(FIND_VISITS, {"ids": [v["id"] for v in sent], "source": SOURCE},
                                                     database_=graph.database)
    found = {record["id"]: (record["nodes"], record["visitors"]) for record in records}
    verdicts: Counter[str] = Counter()
    for visit in sent:
        nodes, visitors = found[visit["id"]]
        if nodes == 0:
            verdicts["missing"] += 1
        elif nodes > 1 or len(visitors) > 1:
            verdicts["duplicated"] += 1
        elif visitors != [people[visit["person"]]]:
            verdicts["wrong_person"] += 1
        else:
            verdicts["exactly_once"] += 1
    records, _, _ = await graph.driver.execute_query(RUN_VISITS, {"source": SOURCE, "prefix": f"{run_id}-"},
                                                     database_=graph.database)
    in_graph = records[0]["n"]
    return {"sent": len(sent), "exactly_once": verdicts["exactly_once"], "missing": verdicts["missing"],
            "duplicated": verdicts["duplicated"], "wrong_person": verdicts["wrong_person"],
            "in_graph_with_run_prefix": in_graph}


async def live_caught_up(graph: Graph, within: float = 120.0) -> float | None:
    """Seconds from now until no person is left marked for evaluation (None: not within `within`)."""
    started = time.perf_counter()
    while time.perf_counter() - started < within:
        records, _, _ = await graph.driver.execute_query(PENDING, database_=graph.database)
        if records[0]["n"] == 0:
            return round(time.perf_counter() - started, 2)
        await asyncio.sleep(0.2)
    return None


async def run_load(connection: Neo4jConnection, workdir: Path, *, clients: int = 20, events: int = 250,
                   readers: int = 4, people: int = 2000, max_seconds: float = 600.0, via: str = "graphql",
                   checkout: Path = PROJECT_ROOT, processes: int = 1) -> dict[str, Any]:
    """The whole load test against the Neo4j of `connection` (which it fills); the report."""
    graph = Graph(connection)
    try:
        prepared = await prepare(graph, workdir / "export", people)
        run_id = f"load-{uuid.uuid4().hex[:8]}"
        with ExitStack() as services:
            urls = [services.enter_context(serve(connection, workdir / f"service-{n}.log", checkout,
                                                 LIVE_POLL_SECONDS="1", LIVE_SWEEP_SECONDS="3600",
                                                 PYTHONPATH=str(checkout)))[0] for n in range(processes)]
            results, sent = await drive(urls, prepared, run_id, clients, events, readers, max_seconds, via)
            check = await check_exactly_once(graph, run_id, sent, prepared["people"])
            caught_up = await live_caught_up(graph)
    finally:
        await graph.close()
    heard = results["subscriber"]
    ok = (not results["writes"]["errors"] and not results["reads"]["errors"]
          and check["exactly_once"] == check["sent"] == check["in_graph_with_run_prefix"]
          and heard["heard_twice"] == 0)
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "neo4j": neo4j_version()},
        "config": {"processes": processes, "clients": clients, "events_per_client": events, "readers": readers,
                   "people": people, "segment_members_before": prepared["members"], "max_seconds": max_seconds,
                   "via": via},
        "setup_seconds": round(prepared["seconds"], 1),
        **results,
        "exactly_once": check,
        "live_loop_caught_up_seconds": caught_up,
        "passed": ok,
    }


# ---- the report -------------------------------------------------------------------------------


def markdown(report: dict[str, Any]) -> str:
    config, w, r, check = report["config"], report["writes"], report["reads"], report["exactly_once"]
    heard = report["subscriber"]
    each = "one `POST /events` of one event each" if config.get("via") == "events" \
        else "one `recordWebVisits` mutation each"

    def row(name: str, stream: dict[str, Any], unit: str) -> str:
        lat = stream["latency_ms"]
        return (f"| {name} | {stream['requests']:,} | {stream['ok']:,} | {sum(stream['errors'].values())} | "
                f"{stream['per_second']:,} {unit} | {lat['p50']} | {lat['p95']} | {lat['p99']} | {lat['max']} |")

    errors = {**{f"write: {k}": v for k, v in w["errors"].items()}, **{f"read: {k}": v for k, v in r["errors"].items()}}
    return "\n".join([
        "# Load test",
        "",
        f"`python -m benchmarks.load` (`make load`), {report['when']}: {config['clients']} writers x "
        f"{config['events_per_client']} web visits ({each}) and "
        f"{config['readers']} readers "
        f"(segment and audience counts), spread over {config['processes']} service "
        f"{'process' if config['processes'] == 1 else 'processes'} of their own, on a throwaway Neo4j "
        f"{report['machine']['neo4j']} with {config['people']:,} generated people and a saved segment; "
        f"{report['machine']['cpus']} CPUs shared by Neo4j, the service and the clients.",
        "",
        "| requests | sent | ok | errors | throughput | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        row("writes (visits)", w, "events/s"),
        row("reads (counts)", r, "reads/s"),
        "",
        f"Writes took {report['seconds']} s in all. Errors: {json.dumps(errors) if errors else 'none'}.",
        "",
        f"**Exactly once:** {check['exactly_once']:,} of {check['sent']:,} visits are in the graph exactly once, "
        f"linked to the person they were sent for ({check['missing']} missing, {check['duplicated']} duplicated, "
        f"{check['wrong_person']} on another person; {check['in_graph_with_run_prefix']:,} visits with the run's ids "
        "in all). "
        f"The live loop had evaluated every marked person {report['live_loop_caught_up_seconds']} s "
        "after the last write.",
        "",
        f"**A subscriber on process {config['processes']}** heard {heard['entered']:,} people enter the segment "
        f"({heard['heard_twice']} heard twice). From the start of the request with a person's first visit to "
        "the subscriber hearing them enter:",
        "",
        "| request sent to | changes | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
        *(f"| {name} | {part['changes']:,} | {part['latency_ms']['p50']} | {part['latency_ms']['p95']} | "
          f"{part['latency_ms']['p99']} | {part['latency_ms']['max']} |"
          for name, part in (("the subscriber's process", heard["same_process"]),
                             ("another process", heard["other_process"])) if part["changes"]),
        "",
        f"Result: **{'passed' if report['passed'] else 'FAILED'}**.",
        "",
    ])


def write_report(report: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "load.md").write_text(markdown(report))


@contextmanager
def throwaway_neo4j(home: Path) -> Iterator[Neo4jConnection]:
    server = LocalNeo4j(lib=install(get_settings().neo4j_home), home=home, bolt_port=free_port(),
                        http_port=free_port(), password=PASSWORD, heap="2g", pagecache="1g")
    server.start()
    try:
        yield Neo4jConnection(server.uri, "neo4j", SecretStr(PASSWORD), "neo4j")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=3, help="service processes, each on its own port")
    parser.add_argument("--clients", type=int, default=20, help="concurrent writers")
    parser.add_argument("--events", type=int, default=250, help="web visits per writer")
    parser.add_argument("--readers", type=int, default=4, help="concurrent readers while the writers run")
    parser.add_argument("--people", type=int, default=2000, help="people in the generated data set")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="stop sending after this long")
    parser.add_argument("--via", choices=VIAS, default="graphql",
                        help="how each visit is sent: a recordWebVisits mutation, or a POST /events of one event")
    parser.add_argument("--checkout", type=Path, default=PROJECT_ROOT,
                        help="serve the service of this checkout (to compare two commits on one machine)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where load.json and load.md go")
    arguments = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="accountgraph-load-"))
    try:
        with throwaway_neo4j(workdir / "neo4j") as connection:
            report = asyncio.run(run_load(connection, workdir, clients=arguments.clients, events=arguments.events,
                                          readers=arguments.readers, people=arguments.people,
                                          max_seconds=arguments.max_seconds, via=arguments.via,
                                          checkout=arguments.checkout, processes=arguments.processes))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    write_report(report, arguments.out)
    print(markdown(report))
    print(f"Written: {arguments.out / 'load.json'}, {arguments.out / 'load.md'}")
    raise SystemExit(0 if report["passed"] else 1)


if __name__ == "__main__":
    main()
