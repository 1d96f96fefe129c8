"""Live-audience latency benchmark: a fixed-rate stream of events against a generated data set,
timed from each mutation's return to the subscription message it causes.

    python -m benchmarks.realtime --people 100000

1. The export: .cache/bench/<N>/ when its `as_of` is recent enough for the rule's 30-day window
   to be well populated, else one generated with `as_of` = today (UTC) into
   .cache/bench/realtime-<N>/ (the ingest benchmark's fixed-date export is left as it is).
2. A throwaway local Neo4j (heap 4g, page cache 4g, free loopback ports, temporary home): migrate,
   import every source and then MDM with `service.ingest.pipeline.ingest_path` (timed).
3. The Townsend segment, saved and evaluated through the store and engine:
   `audience_rule(threshold, NEW_PRODUCT_PAGE, 30)`, the threshold being the median company's
   closed-won total, so that about half of the companies qualify on revenue. Candidates, by Cypher:
   for visit events, people of qualifying companies who are not in the segment (no recent visit to
   the page); for opportunity events, companies at or below the threshold that have people with a
   recent visit to the page: raising the company's largest Closed Won deal by the gap lifts it over
   (a company without one has its largest open deal closed as won for the gap instead).
4. The real service in a subprocess (`python -m service.cli serve`, LIVE_POLL_SECONDS=1), so the
   client and the server do not share a GIL; one graphql-transport-ws subscriber to
   `audienceChanges(segmentId)`.
5. A warm-up (not counted), then a ladder of fixed rates, each held for --seconds or, at high rates,
   for about --max-events events: each event is its own mutation (about 80 % `recordWebVisits`
   for a fresh candidate person, 20 % `upsertOpportunities` lifting a fresh candidate company),
   started on a fixed schedule whether or not earlier ones have returned. Latency = arrival of
   the ENTERED message (for an opportunity: the first ENTERED of any person of the company) - the
   moment the mutation returned. An event not heard 10 s after that is lost if its people are
   still marked or are members by then, and missed if neither (the change never marked them). The
   ladder stops climbing once p95 is over the target or a backlog builds (latency rising within
   the step, events lost, or throughput falling behind the rate), or the candidates run out.
6. Where the time goes: the CPU of Neo4j (by kind of thread), the service and this client per
   step; the service-side timestamp of each change (`at`, set in the evaluating transaction)
   splits each latency into "mutation returned -> evaluated" and "evaluated -> delivered"; after
   the ladder, with the service stopped, the incremental evaluation query is PROFILEd for batches
   of 1, one company and 500 people (in a transaction that is rolled back), and single events are
   written and evaluated in process with every phase timed.

Prints a table and writes docs/benchmarks/realtime.json, realtime.md and realtime.png (with
`--people` other than 100,000 the files are named realtime-<N>.*). Loopback only; the service and
Neo4j are stopped at the end, also on errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import websockets
from pydantic import SecretStr

from benchmarks.generate import MANIFEST, NEW_PRODUCT_PAGE
from benchmarks.ingest import (
    CLOCK_TICKS,
    HEAP,
    PAGECACHE,
    PASSWORD,
    cpu_seconds,
    export,
    graph_counts,
    query_timer,
    throwaway_neo4j,
)
from benchmarks.service_process import environment, serve
from service.config import PROJECT_ROOT
from service.database import Graph, Neo4jConnection
from service.ingest.pipeline import ingest_path, ingest_tables
from service.ingest.readers import RawTable
from service.ingest.specs import OPPORTUNITIES, WEB_VISITS
from service.neo4j_server import LocalNeo4j, neo4j_version
from service.queries import Q, Template, query_file
from service.realtime.evaluator import BATCH, Evaluator
from service.segments import engine, store
from service.segments.presets import audience_rule
from service.segments.rules import parse_rule

CACHE = PROJECT_ROOT / ".cache" / "bench"
RESULTS = PROJECT_ROOT / "docs" / "benchmarks"
WITHIN_DAYS = 30
FRESH_EXPORT_DAYS = 3  # a cached export older than this has too few visits left in the 30-day window
MIN_SECONDS = 10.0  # the shortest a rate is held
TARGET_P95 = 1.0  # seconds, the target for the cross-account rule
LOST_AFTER = 10.0  # seconds after the mutation returned
OPPORTUNITY_SHARE = 5  # every 5th event is an opportunity update (20 %)
VISIT_MARGIN_DAYS = 27  # opportunity candidates' visits must be this recent, so none expires mid-run
SUBSCRIBE = "subscription ($id: ID) { audienceChanges(segmentId: $id) { email change at } }"
VISIT = """mutation ($source: String!, $id: String!, $person: String!, $url: String!, $at: DateTime!) {
  recordWebVisits(source: $source, visits: [{id: $id, personId: $person, url: $url, visitedAt: $at}]) { records } }"""
OPPORTUNITY = """mutation ($source: String!, $id: String!, $account: String!, $name: String, $amount: Float!,
                           $currency: String, $stage: String!, $close: Date) {
  upsertOpportunities(source: $source, opportunities: [{id: $id, accountId: $account, name: $name, amount: $amount,
    currencyIsoCode: $currency, stageName: $stage, closeDate: $close}]) { records } }"""


# ---- the data set -----------------------------------------------------------------------------


def export_for(people: int, seed: int, today: date) -> tuple[Path, float | None]:
    """A complete export whose 30-day window is live: (folder, generation seconds or None if cached)."""
    for root in (CACHE / str(people), CACHE / f"realtime-{people}"):
        if (root / MANIFEST).exists():  # written last: a complete tree
            as_of = tomllib.loads((root / MANIFEST).read_text())["as_of"]
            if 0 <= (today - as_of).days <= FRESH_EXPORT_DAYS:
                return root, None
    return export(CACHE / f"realtime-{people}", people, seed, today)


async def ingest_all(graph: Graph, root: Path) -> dict[str, Any]:
    manifest = tomllib.loads((root / MANIFEST).read_text())
    imports = []
    started = time.perf_counter()
    for source in manifest["sources"]:
        report = await ingest_path(graph, root / source["folder"], source["name"])
        print(f"  {report}", flush=True)
        imports.append({"source": report.source, "rows": report.rows, "seconds": report.seconds})
    report = await ingest_path(graph, root / manifest["mdm"]["folder"], mdm=True)
    print(f"  {report}", flush=True)
    imports.append({"source": report.source, "rows": report.rows, "seconds": report.seconds})
    seconds = time.perf_counter() - started
    return {"as_of": str(manifest["as_of"]), "imports": imports, "seconds": seconds,
            "rows": sum(i["rows"] for i in imports)}


async def query(graph: Graph, statement: str, **parameters: Any) -> list[dict[str, Any]]:
    """Ad-hoc Cypher for the benchmark's set-up and checks only; the product's queries live in cypher/."""
    records, _, _ = await graph.driver.execute_query(statement, parameters, database_=graph.database)
    return [record.data() for record in records]


@dataclass
class Candidates:
    threshold: float
    companies: int
    qualifying: int
    members: int  # the segment's members after the full evaluation
    visits: list[dict[str, Any]]  # {email, source, key}
    opportunities: list[dict[str, Any]]  # {company, people, visitors, source, account, id, name, amount, ...}


COMPANY_TOTALS = """
MATCH (c:Company)
CALL (c) {
  OPTIONAL MATCH (c)<-[:PART_OF]-(:Account)-[:HAS_OPPORTUNITY]->(o:Opportunity) WHERE o.isWon
  WITH DISTINCT o
  RETURN sum(o.amount) AS total, count(o) AS won
}
RETURN c.id AS id, toFloat(total) AS total, won
"""
VISIT_CANDIDATES = """
MATCH (s:Segment {id: $segmentId})
UNWIND $companies AS id
MATCH (:Company {id: id})<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person)
WITH DISTINCT s, p
WHERE NOT (p)-[:IN_SEGMENT]->(s)
MATCH (p)-[k:KNOWN_IN]->(src:Source) WHERE src.name STARTS WITH 'Marketo'
WITH p, min([src.name, k.sourceKey]) AS known
RETURN p.email AS email, known[0] AS source, known[1] AS key
ORDER BY email
"""
OPPORTUNITY_CANDIDATES = """
MATCH (s:Segment {id: $segmentId})
UNWIND $companies AS company
MATCH (c:Company {id: company.id})
CALL (c, s) {
  MATCH (c)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person)
  WITH DISTINCT p
  RETURN collect(p.email) AS people,
         collect(CASE WHEN NOT (p)-[:IN_SEGMENT]->(s) AND EXISTS {
           MATCH (p)-[:VISITED]->(v:WebVisit {url: $page})
           WHERE v.visitedAt >= datetime() - duration({days: $days}) } THEN p.email END) AS visitors
}
WITH c, company, people, visitors WHERE size(visitors) > 0
CALL (c) {
  MATCH (c)<-[:PART_OF]-(a:Account)-[:HAS_OPPORTUNITY]->(o:Opportunity) WHERE o.isWon OR NOT o.isClosed
  RETURN a, o ORDER BY o.isWon DESC, o.amount DESC, o.sourceKey LIMIT 1
}
RETURN c.id AS company, company.total AS total, people, visitors, o.source AS source, a.sourceKey AS account,
       o.sourceKey AS id, o.name AS name, o.amount AS amount, o.currency AS currency, o.stage AS stage,
       toString(o.closeDate) AS closeDate, o.isWon AS won
ORDER BY company
"""


async def save_segment(graph: Graph, seed: int) -> tuple[str, Candidates]:
    totals = await query(graph, COMPANY_TOTALS)
    threshold = float(statistics.median(row["total"] for row in totals))
    rule = audience_rule(threshold, NEW_PRODUCT_PAGE, WITHIN_DAYS)
    started = time.perf_counter()
    segment = await store.create(graph, "Townsend live benchmark", "benchmarks/realtime.py", rule)
    evaluation = await engine.evaluate(graph, segment["id"])
    print(f"Segment saved and evaluated in {time.perf_counter() - started:.1f} s: threshold {threshold:,.0f}, "
          f"{evaluation['count']:,} members", flush=True)
    qualifying = sorted(row["id"] for row in totals if row["total"] > threshold)
    below = [{"id": row["id"], "total": row["total"]} for row in totals if row["total"] <= threshold]
    visits = await query(graph, VISIT_CANDIDATES, segmentId=segment["id"], companies=qualifying)
    opportunities = await query(graph, OPPORTUNITY_CANDIDATES, segmentId=segment["id"], companies=below,
                                page=NEW_PRODUCT_PAGE, days=VISIT_MARGIN_DAYS)
    rng = random.Random(seed)
    rng.shuffle(visits)
    rng.shuffle(opportunities)
    return segment["id"], Candidates(threshold, len(totals), len(qualifying), evaluation["count"], visits,
                                     opportunities)


# ---- the service ------------------------------------------------------------------------------


@contextmanager
def service(server: LocalNeo4j, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], dict[str, str]]]:
    """The service against the throwaway Neo4j, with an admin key made for the run (yielded as the
    headers to send); stopped on exit."""
    connection = Neo4jConnection(server.uri, "neo4j", SecretStr(PASSWORD), "neo4j")
    key = subprocess.run([sys.executable, "-m", "service.cli", "key", "create", "--name", f"benchmark {log}",
                          "--scope", "admin"], cwd=PROJECT_ROOT, env=environment(connection), check=True,
                         capture_output=True, text=True).stdout.strip()
    with serve(connection, log, LIVE_POLL_SECONDS="1", LIVE_SWEEP_SECONDS="60") as (url, process):
        yield url, process, {"Authorization": f"Bearer {key}"}


def _thread_kind(name: str) -> str:
    return ("jit" if "CompilerThre" in name else
            "gc" if name.startswith(("G1 ", "GC Thread", "VM Thread")) else
            "bolt" if name.startswith("neo4j.Bolt") else "other")


def _threads(pid: int | None) -> dict[int, tuple[str, float]]:
    """A JVM's live threads: id -> (kind, CPU seconds so far)."""
    threads: dict[int, tuple[str, float]] = {}
    tasks = Path(f"/proc/{pid}/task")
    if pid is None or not tasks.exists():
        return threads
    for task in tasks.iterdir():
        try:
            stat = (task / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = stat.rsplit(")", 1)[1].split()
        threads[int(task.name)] = (_thread_kind(stat[stat.index("(") + 1:stat.rindex(")")]),
                                   (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return threads


class ThreadSampler:
    """Neo4j's CPU by kind of thread over a stretch of time (the JIT compilers, garbage collection,
    the Bolt threads that run the queries, the rest) and the service's, as totals and as a timeline.
    Threads come and go (the JVM starts and ends compiler threads as needed), so they are sampled
    often and a thread's time is counted from its first sample (from zero if it started meanwhile)
    to its last."""

    KINDS = ("jit", "gc", "bolt")

    def __init__(self, neo4j: int | None, service: int | None, every: float = 0.25) -> None:
        self.neo4j, self.service, self.every = neo4j, service, every
        self.began = time.time()
        self.start = {tid: seconds for tid, (_, seconds) in _threads(neo4j).items()}
        self.last: dict[int, tuple[str, float]] = {}
        self.process_start = (cpu_seconds(neo4j), cpu_seconds(service))
        self.timeline: list[tuple[float, dict[str, float]]] = []
        self._task = asyncio.create_task(self._run())

    def _sample(self) -> dict[str, float]:
        self.last.update(_threads(self.neo4j))
        kinds = dict.fromkeys(self.KINDS, 0.0)
        for tid, (kind, seconds) in self.last.items():
            if kind in kinds:
                kinds[kind] += seconds - self.start.get(tid, 0.0)
        kinds["other"] = cpu_seconds(self.neo4j) - self.process_start[0] - sum(kinds.values())
        kinds["service"] = cpu_seconds(self.service) - self.process_start[1]
        self.timeline.append((time.time() - self.began, kinds))
        return kinds

    async def _run(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(self.every)

    async def stop(self) -> dict[str, float]:
        """Neo4j's CPU seconds by kind of thread since the start."""
        self._task.cancel()
        kinds = self._sample()
        return {kind: kinds[kind] for kind in (*self.KINDS, "other")}

    def cores(self, resolution: float = 0.5) -> dict[str, list[float]]:
        """The timeline as cores busy per `resolution` seconds: {"t": [...], kind: [...]}."""
        series: dict[str, list[float]] = {"t": []}
        previous: tuple[float, dict[str, float]] | None = None
        for moment, kinds in self.timeline:
            if previous is None:
                previous = (0.0, dict.fromkeys(kinds, 0.0))
            if moment - previous[0] < resolution - 1e-3:
                continue
            span = moment - previous[0]
            series["t"].append(round(moment, 2))
            for kind, seconds in kinds.items():
                series.setdefault(kind, []).append(round((seconds - previous[1][kind]) / span, 2))
            previous = (moment, kinds)
        return series


LONG_TRANSACTIONS = """
SHOW TRANSACTIONS YIELD transactionId, currentQuery, status, elapsedTime, waitTime, cpuTime
WHERE elapsedTime.milliseconds >= $ms AND NOT coalesce(currentQuery, '') STARTS WITH 'SHOW TRANSACTIONS'
RETURN transactionId AS id, currentQuery AS query, status, elapsedTime.milliseconds AS elapsed,
       waitTime.milliseconds AS waiting, cpuTime.milliseconds AS cpu
"""


IDLE = "(no query running: the transaction waits for its client)"


class TransactionWatcher:
    """Neo4j's transactions that have run for LONG_MS or more, as seen every `every` seconds:
    the longest sighting of each, with its query's first line and what it was doing."""

    LONG_MS = 200

    def __init__(self, graph: Graph, every: float = 0.2) -> None:
        self.graph, self.every = graph, every
        self.began = time.time()
        self.seen: dict[str, dict[str, Any]] = {}
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                rows = await query(self.graph, LONG_TRANSACTIONS, ms=self.LONG_MS)
            except Exception as error:  # the watch must not end the benchmark
                self.seen.setdefault("error", {"query": f"{type(error).__name__}: {error}"[:200]})
                return
            for row in rows:
                lines = [line.strip() for line in (row["query"] or "").splitlines() if line.strip()]
                first = next((line for line in lines if line.startswith("// name:")), lines[0] if lines else "")
                entry = self.seen.setdefault(row["id"], {
                    "at": round(time.time() - self.began - row["elapsed"] / 1000, 2), "query": first[:120] or IDLE})
                if row["elapsed"] >= entry.get("elapsed", 0):
                    entry.update(elapsed=row["elapsed"], status=row["status"][:120], waiting=row["waiting"],
                                 cpu=row["cpu"])
            await asyncio.sleep(self.every)

    def stop(self, keep: int = 12) -> dict[str, Any]:
        """How many long transactions were seen, of them how many were idle (open between two of the
        client's queries), and the `keep` longest."""
        self._task.cancel()
        seen = list(self.seen.values())
        longest = sorted(seen, key=lambda entry: -entry.get("elapsed", 0))[:keep]
        return {"count": len(seen), "idle": sum(1 for entry in seen if entry["query"] == IDLE),
                "longest": sorted(longest, key=lambda entry: entry.get("at", 0))}


# ---- events and their messages ----------------------------------------------------------------


@dataclass
class Event:
    index: int
    kind: str  # visit or opportunity
    key: str  # the person's email or the company's id
    variables: dict[str, Any]
    expected: int = 1  # ENTERED messages it should cause
    scheduled: float = 0.0
    sent: float | None = None
    returned: float | None = None
    arrived: float | None = None  # the first ENTERED it caused
    evaluated: float | None = None  # that change's `at`: the evaluating transaction's clock
    received: int = 0
    error: str | None = None
    fate: str | None = None  # for an event never heard: pending, late or missed (see classify)

    @property
    def latency(self) -> float | None:
        return None if self.arrived is None or self.returned is None else self.arrived - self.returned


class Subscriber:
    """One graphql-transport-ws subscription to audienceChanges(segmentId); every message timed."""

    def __init__(self, url: str, segment_id: str, headers: dict[str, str]) -> None:
        self.url = url.replace("http", "ws", 1) + "/graphql"
        self.headers = headers
        self.segment_id = segment_id
        self.owners: dict[str, Event] = {}  # email -> the event that should bring them in
        self.unexpected: list[dict[str, Any]] = []
        self.messages = 0
        self._task: asyncio.Task[None] | None = None
        self._socket: Any = None

    async def start(self) -> None:
        self._socket = await websockets.connect(self.url, subprotocols=["graphql-transport-ws"], max_queue=None)
        await self._socket.send(json.dumps({"type": "connection_init", "payload": self.headers}))
        ack = json.loads(await asyncio.wait_for(self._socket.recv(), 10))
        if ack["type"] != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        await self._socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": SUBSCRIBE, "variables": {"id": self.segment_id}}}))
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self._socket:
            now = time.time()
            message = json.loads(raw)
            if message["type"] == "ping":
                await self._socket.send(json.dumps({"type": "pong"}))
                continue
            if message["type"] != "next":
                self.unexpected.append(message)
                continue
            change = message["payload"]["data"]["audienceChanges"]
            self.messages += 1
            event = self.owners.get(change["email"])
            if event is None or change["change"] != "ENTERED":
                self.unexpected.append(change)
                continue
            event.received += 1
            if event.arrived is None:
                event.arrived = now
                event.evaluated = datetime.fromisoformat(change["at"]).timestamp()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        if self._socket:
            await self._socket.close()


def lifting(company: dict[str, Any], threshold: float) -> dict[str, Any]:
    """The opportunity update that lifts a company's closed-won total just over the threshold: its
    largest Closed Won deal raised by the gap, or (a company with none) its largest open deal closed
    as won for the gap."""
    gap = threshold - company["total"] + 1000.0
    update = {"source": company["source"], "id": company["id"], "account": company["account"],
              "name": company["name"], "currency": company["currency"]}
    if company["won"]:
        return update | {"amount": round(company["amount"] + gap, 2), "stage": company["stage"],
                         "close": company["closeDate"]}
    return update | {"amount": round(gap, 2), "stage": "Closed Won",
                     "close": datetime.now(UTC).date().isoformat()}


def make_events(candidates: Candidates, count: int, start_index: int) -> list[Event]:
    """`count` events, every OPPORTUNITY_SHARE-th an opportunity; each takes a fresh candidate
    (raises IndexError when there are none left)."""
    events = []
    for offset in range(count):
        index = start_index + offset
        if is_opportunity(index):
            company = candidates.opportunities.pop()
            events.append(Event(index, "opportunity", company["company"], {
                **lifting(company, candidates.threshold),
                "_people": company["people"], "_visitors": company["visitors"]}, expected=len(company["visitors"])))
        else:
            person = candidates.visits.pop()
            events.append(Event(index, "visit", person["email"], {
                "source": person["source"], "id": f"rt-bench-{index}", "person": person["key"],
                "url": NEW_PRODUCT_PAGE, "_people": [person["email"]], "_visitors": [person["email"]]}))
    return events


def is_opportunity(index: int) -> bool:
    return index % OPPORTUNITY_SHARE == OPPORTUNITY_SHARE - 1


def enough(candidates: Candidates, count: int, start_index: int) -> bool:
    """Whether the remaining candidates can make `count` events from `start_index` on."""
    opportunities = sum(1 for index in range(start_index, start_index + count) if is_opportunity(index))
    return opportunities <= len(candidates.opportunities) and count - opportunities <= len(candidates.visits)


async def send(client: httpx.AsyncClient, event: Event) -> None:
    variables = {k: v for k, v in event.variables.items() if not k.startswith("_")}
    if event.kind == "visit":
        variables["at"] = datetime.now(UTC).isoformat()
    event.sent = time.time()
    try:
        response = await client.post("/graphql", json={
            "query": VISIT if event.kind == "visit" else OPPORTUNITY, "variables": variables})
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            event.error = json.dumps(body.get("errors") or body)[:300]
    except (httpx.HTTPError, ValueError) as error:
        event.error = f"{type(error).__name__}: {error}"
    event.returned = time.time()


CLASSIFY = """
UNWIND $emails AS email
MATCH (p:Person {email: email})
RETURN email, p:PendingEvaluation AS pending, EXISTS { (p)-[:IN_SEGMENT]->(:Segment {id: $segmentId}) } AS member
"""


async def classify(graph: Graph, segment_id: str, unheard: list[Event]) -> None:
    """Why an event was not heard in time: its people are still marked (pending: a backlog), are
    members now (late: evaluated, but the message came after LOST_AFTER or not at all), or neither
    (missed: the change never marked them, so nothing re-evaluated them)."""
    emails = sorted({email for event in unheard for email in event.variables["_visitors"]})
    state = {row["email"]: row for row in await query(graph, CLASSIFY, emails=emails, segmentId=segment_id)}
    for event in unheard:
        rows = [state[email] for email in event.variables["_visitors"] if email in state]
        event.fate = ("pending" if any(r["pending"] for r in rows) else
                      "late" if any(r["member"] for r in rows) else "missed")


# ---- one step of the ladder -------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Step:
    rate: float
    seconds: float
    events: list[Event] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process over the step
    neo4j_threads: dict[str, float] = field(default_factory=dict)  # Neo4j's CPU seconds by thread kind
    wall: float = 0.0  # seconds over which the CPU was measured: the sends, and one second more
    timeline: dict[str, list[float]] = field(default_factory=dict)  # cores busy per half second
    began: float = 0.0  # wall clock of the first send
    long_transactions: dict[str, Any] = field(default_factory=dict)
    pending_after: int | None = None

    def summary(self) -> dict[str, Any]:
        done = [e for e in self.events if e.latency is not None]
        latencies = [e.latency for e in done]
        unheard = [e for e in self.events if e.error is None and e.arrived is None]
        lost = [e for e in unheard if e.fate != "missed"]
        missed = [e for e in unheard if e.fate == "missed"]
        first_sent = min((e.sent for e in self.events if e.sent), default=0.0)
        last_sent = max((e.sent for e in self.events if e.sent), default=0.0)
        last_arrival = max((e.arrived for e in done), default=first_sent)
        span = max(last_arrival, last_sent) - first_sent
        thirds = len(self.events) // 3
        early = [e.latency for e in self.events[:thirds] if e.latency is not None]
        late = [e.latency for e in self.events[-thirds:] if e.latency is not None] if thirds else []
        mutation = [e.returned - e.sent for e in self.events if e.returned and e.sent]
        to_evaluated = [e.evaluated - e.returned for e in done if e.evaluated]
        to_delivered = [e.arrived - e.evaluated for e in done if e.evaluated]

        def stats(values: list[float]) -> dict[str, float | None]:
            return {"p50": percentile(values, 0.5), "p95": percentile(values, 0.95),
                    "p99": percentile(values, 0.99), "max": max(values) if values else None}

        by_kind = {kind: stats([e.latency for e in done if e.kind == kind]) | {
            "events": sum(1 for e in self.events if e.kind == kind)} for kind in ("visit", "opportunity")}
        return {
            "rate": self.rate, "seconds": self.seconds, "events": len(self.events),
            "visits": by_kind["visit"]["events"], "opportunities": by_kind["opportunity"]["events"],
            "latency": stats(latencies), "by_kind": by_kind,
            "lost": len(lost), "lost_events": [{"kind": e.kind, "key": e.key, "fate": e.fate} for e in lost][:20],
            "missed": len(missed),
            "missed_by_kind": {k: sum(1 for e in missed if e.kind == k) for k in ("visit", "opportunity")},
            "missed_events": [{"kind": e.kind, "key": e.key} for e in missed][:20],
            "errors": sum(1 for e in self.events if e.error),
            "error_examples": sorted({e.error for e in self.events if e.error})[:3],
            "send_rate": (len(self.events) - 1) / (last_sent - first_sent) if last_sent > first_sent else None,
            "achieved": len(done) / span if span > 0 else None,  # events heard per second
            "messages_expected": sum(e.expected for e in self.events),
            "messages_received": sum(e.received for e in self.events),
            "mutation_seconds": stats(mutation),
            "returned_to_evaluated": stats(to_evaluated), "evaluated_to_delivered": stats(to_delivered),
            "latency_first_third_p50": percentile(early, 0.5), "latency_last_third_p50": percentile(late, 0.5),
            "began": self.began, "cpu_timeline": self.timeline, "long_transactions": self.long_transactions,
            "stalls": stalls(self.events, first_sent),
            "wall_seconds": self.wall, "cpu_seconds": self.cpu, "neo4j_thread_cpu_seconds": self.neo4j_threads,
            "cpu_cores": {name: seconds / self.wall for name, seconds in self.cpu.items()} if self.wall else {},
            "neo4j_cpu_ms_per_event": {kind: 1000 * seconds / len(self.events)
                                       for kind, seconds in self.neo4j_threads.items()} if self.events else {},
            "service_cpu_ms_per_event": 1000 * self.cpu.get("service", 0) / len(self.events) if self.events else None,
            "per_event": [[e.kind[0], round(e.sent - first_sent, 3) if e.sent else None,
                           round(e.returned - e.sent, 4) if e.returned and e.sent else None,
                           None if e.latency is None else round(e.latency, 4),
                           round(e.evaluated - e.returned, 4) if e.evaluated and e.returned else None,
                           e.fate] for e in self.events],
            "_points": [(e.sent - first_sent, e.latency) for e in done if e.sent],  # for the plot only
        }


def stalls(events: list[Event], first_sent: float, over: float = 0.25) -> list[dict[str, float]]:
    """Stretches in which the service answered or evaluated slowly: runs of events (by send time)
    whose mutation or latency took over `over` seconds; start, end (seconds into the step), the
    events in it and the worst latency and mutation time."""
    found: list[dict[str, float]] = []
    for event in sorted((e for e in events if e.sent), key=lambda e: e.sent or 0):
        mutation = (event.returned or event.sent or 0) - (event.sent or 0)
        slow = max(mutation, event.latency or 0.0)
        if slow <= over:
            continue
        at = (event.sent or 0) - first_sent
        if found and at - found[-1]["end"] < 0.5:
            found[-1].update(end=round(at, 2), events=found[-1]["events"] + 1,
                             worst_latency=round(max(found[-1]["worst_latency"], event.latency or 0.0), 3),
                             worst_mutation=round(max(found[-1]["worst_mutation"], mutation), 3))
        else:
            found.append({"start": round(at, 2), "end": round(at, 2), "events": 1,
                          "worst_latency": round(event.latency or 0.0, 3), "worst_mutation": round(mutation, 3)})
    return found


def backlog(summary: dict[str, Any]) -> str | None:
    """Why the ladder should stop climbing after this step (None: it kept up)."""
    p95 = summary["latency"]["p95"]
    if summary["lost"] or summary["errors"]:
        return f"{summary['lost']} lost, {summary['errors']} failed"
    if p95 is None or p95 > TARGET_P95:
        return f"p95 {p95:.2f} s over the {TARGET_P95:.0f} s target" if p95 else "no latency measured"
    early, late = summary["latency_first_third_p50"], summary["latency_last_third_p50"]
    if early is not None and late is not None and late > 2 * early and late - early > 0.25:
        return f"latency rising within the step (p50 {early:.2f} s -> {late:.2f} s)"
    heard_share = 1 - summary["missed"] / summary["events"] if summary["events"] else 1
    if summary["achieved"] and summary["achieved"] < 0.9 * summary["rate"] * heard_share:
        return f"throughput {summary['achieved']:.1f}/s behind the rate"
    return None


async def run_step(client: httpx.AsyncClient, subscriber: Subscriber, graph: Graph, events: list[Event],
                   rate: float, seconds: float, pids: dict[str, int | None]) -> Step:
    step = Step(rate, seconds, events)
    for event in events:
        for email in event.variables["_people"]:
            subscriber.owners[email] = event
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    sampler = ThreadSampler(pids["neo4j"], pids["service"])
    watcher = TransactionWatcher(graph)
    began = time.time()
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    tasks = []
    for number, event in enumerate(events):
        delay = start + number / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        event.scheduled = start + number / rate
        tasks.append(asyncio.create_task(send(client, event)))
    await asyncio.gather(*tasks)
    # CPU over the load: from the first send until a second after the last mutation returned (the
    # drain below can idle for LOST_AFTER seconds waiting for events that will never be heard).
    await asyncio.sleep(1.0)
    step.wall = time.time() - began
    step.cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
    step.neo4j_threads = await sampler.stop()
    step.timeline = sampler.cores()
    step.long_transactions = watcher.stop()
    step.began = began
    deadline = max(e.returned or 0.0 for e in events) + LOST_AFTER
    while time.time() < deadline and any(e.arrived is None and e.error is None for e in events):
        await asyncio.sleep(0.05)
    # Opportunity events can bring several people in: a moment for the later messages to be counted.
    await asyncio.sleep(0.5)
    await classify(graph, subscriber.segment_id, [e for e in events if e.arrived is None and e.error is None])
    step.pending_after = (await query(graph, "MATCH (p:PendingEvaluation) RETURN count(p) AS n"))[0]["n"]
    return step


# ---- where the time goes ----------------------------------------------------------------------


def _profile_totals(plan: dict[str, Any]) -> tuple[int, list[tuple[str, int, int]]]:
    """Total db hits of a profiled plan, and (operator, rows, db hits) of its heaviest operators."""
    operators: list[tuple[str, int, int]] = []

    def walk(node: Any) -> int:
        hits = int(node.get("dbHits", 0))
        args = node.get("args") or {}
        details = args.get("Details", "")
        operators.append((f"{node.get('operatorType')} {details}"[:160], int(node.get("rows", 0)), hits))
        return hits + sum(walk(child) for child in node.get("children", []))

    total = walk(plan)
    return total, sorted(operators, key=lambda o: -o[2])[:6]


async def profile_evaluation(graph: Graph, segment_id: str,
                             batches: dict[str, tuple[list[str], dict[str, Any] | None]]) -> list[dict[str, Any]]:
    """PROFILE the incremental evaluation query for each batch of people, as the live loop runs it, in
    a transaction that first makes the change (a visit to the page now for each person, or one won
    deal lifting the company over the threshold), so that they really enter; then rolled back."""
    segments = {row["id"]: row for row in await graph.run(Q.SEGMENTS_RULES)}
    compiled = await engine.compile_for(graph, parse_rule(json.loads(segments[segment_id]["rule"])), segment_id)
    statement = "PROFILE " + compiled.render(Template.SEGMENT_EVALUATE_PEOPLE).text
    figures = []
    async with graph.driver.session(database=graph.database) as session:
        for name, (emails, lift) in batches.items():
            for _ in range(3):  # the first run plans the query; the last is reported
                tx = await session.begin_transaction()
                try:
                    if lift is None:
                        await (await tx.run("""UNWIND $emails AS email MATCH (p:Person {email: email})
                            CREATE (p)-[:VISITED]->(:WebVisit {source: 'bench', sourceKey: randomUUID(), url: $url,
                                                               visitedAt: datetime()})""",
                                            {"emails": emails, "url": NEW_PRODUCT_PAGE})).consume()
                    else:
                        await (await tx.run("""MATCH (o:Opportunity {source: $source, sourceKey: $id})
                            SET o.amount = $amount, o.stage = $stage, o.isWon = true, o.isClosed = true""",
                                            lift)).consume()
                    started = time.perf_counter()
                    result = await tx.run(statement, {**compiled.parameters, "segmentId": segment_id, "emails": emails})
                    rows = await result.data()
                    summary = await result.consume()
                    seconds = time.perf_counter() - started
                finally:
                    await tx.rollback()
            hits, heaviest = _profile_totals(summary.profile or {})
            entered = sum(len(row["entered"]) for row in rows)
            figures.append({"batch": name, "people": len(emails), "entered": entered, "seconds": seconds,
                            "db_hits": hits, "heaviest_operators": heaviest})
            print(f"  evaluate {name}: {len(emails)} people, {entered} entering, {seconds * 1000:.1f} ms, "
                  f"{hits:,} db hits", flush=True)
    return figures


async def timed_round(graph: Graph, evaluator: Evaluator) -> dict[str, float]:
    """One live-loop round as Evaluator.evaluate_pending runs it, timed phase by phase."""
    started = time.perf_counter()
    segments = await evaluator._segments()
    times = {"segments_read": time.perf_counter() - started}
    async with graph.driver.session(database=graph.database) as session:
        tx = await session.begin_transaction()
        try:
            mark = time.perf_counter()
            claimed = await (await tx.run(query_file(Q.PEOPLE_CLAIM_PENDING).text, {"limit": BATCH})).data()
            times["claim"] = time.perf_counter() - mark
            entered = 0
            mark = time.perf_counter()
            for segment, compiled in segments:
                result = await tx.run(compiled.render(Template.SEGMENT_EVALUATE_PEOPLE).text, {
                    **compiled.parameters, "segmentId": segment["id"], "emails": [row["email"] for row in claimed]})
                entered += sum(len(row["entered"]) for row in await result.data())
            times["evaluate"] = time.perf_counter() - mark
            mark = time.perf_counter()
            await tx.commit()
            times["commit"] = time.perf_counter() - mark
        finally:
            if tx.closed() is False:
                await tx.rollback()
    times["round"] = time.perf_counter() - started
    times["claimed"], times["entered"] = len(claimed), entered
    return times


async def phases(graph: Graph, threshold: float, visits: list[dict[str, Any]],
                 companies: list[dict[str, Any]]) -> dict[str, Any]:
    """With the service stopped: events written in this process as the mutations write them
    (`ingest_tables`), each followed by one live round, every phase timed; medians per kind."""
    evaluator = Evaluator(graph)
    await timed_round(graph, evaluator)  # whatever is marked, and the compiled rule cached
    samples: dict[str, list[dict[str, float]]] = {"visit": [], "opportunity": []}
    events = [("visit", v) for v in visits] + [("opportunity", c) for c in companies]
    for number, (kind, item) in enumerate(events):
        table = RawTable(WEB_VISITS if kind == "visit" else OPPORTUNITIES, kind)
        if kind == "visit":
            source = item["source"]
            table.records.append((0, {"Id": f"rt-phase-{number}", "PersonId": item["key"], "Url": NEW_PRODUCT_PAGE,
                                      "VisitedAt": datetime.now(UTC).isoformat(), "IsDeleted": None}))
        else:
            source = item["source"]
            update = lifting(item, threshold)
            table.records.append((0, {"Id": update["id"], "AccountId": update["account"], "Name": update["name"],
                                      "Amount": update["amount"], "CurrencyIsoCode": update["currency"],
                                      "StageName": update["stage"], "CloseDate": update["close"], "IsDeleted": None}))
        with query_timer() as writes:
            started = time.perf_counter()
            await ingest_tables(graph, source, [table])
            write = time.perf_counter() - started
        sample = {"mutation": write, **{f"mutation:{name}": figures[0] for name, figures in writes.items()}}
        sample |= {f"round:{name}": value for name, value in (await timed_round(graph, evaluator)).items()}
        samples[kind].append(sample)
    return {kind: {key: statistics.median(sample[key] for sample in rows if key in sample)
                   for key in rows[0]} | {"events": len(rows)} for kind, rows in samples.items() if rows}


NEO4J_LOG_WORDS = ("pause", "checkpoint", "sampl", "stale", "rotat", "replan")


def neo4j_log_events(server: LocalNeo4j, since: float) -> list[dict[str, Any]]:
    """The lines of Neo4j's debug.log since `since` (epoch seconds) that tell of a stall: VM pauses,
    checkpoints, index sampling, log rotation, replanning."""
    found = []
    try:
        lines = (server.home / "logs" / "debug.log").read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return found
    for line in lines:
        if not any(word in line.lower() for word in NEO4J_LOG_WORDS):
            continue
        try:
            at = datetime.strptime(line[:28], "%Y-%m-%d %H:%M:%S.%f%z").timestamp()
        except ValueError:
            continue
        if at >= since:
            found.append({"at": at, "line": line[29:260]})
    return found


async def company_sizes(graph: Graph) -> dict[str, float]:
    rows = await query(graph, """MATCH (c:Company)
        RETURN COUNT { MATCH (c)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person) RETURN DISTINCT p } AS n""")
    sizes = [row["n"] for row in rows]
    return {"mean": statistics.fmean(sizes), "median": statistics.median(sizes), "max": max(sizes)}


# ---- the benchmark ----------------------------------------------------------------------------


@dataclass
class Options:
    people: int
    seed: int
    rates: list[float]
    seconds: float
    max_events: int
    warmup: int
    warmup_rate: float

    def seconds_at(self, rate: float) -> float:
        """How long a rate is held: `seconds`, shortened at high rates to about `max_events` events
        (at least MIN_SECONDS), since every fifth event uses up a company."""
        return max(MIN_SECONDS, min(self.seconds, self.max_events / rate))


async def ladder(options: Options, server: LocalNeo4j, graph: Graph, segment_id: str, candidates: Candidates,
                 work: Path) -> tuple[list[dict[str, Any]], str | None, dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    stopped: str | None = None
    log = work / "service.log"
    with service(server, log) as (url, process, headers):
        pids = {"neo4j": server.running_pid(), "service": process.pid, "client": os.getpid()}
        subscriber = Subscriber(url, segment_id, headers)
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits, headers=headers) as client:
            await subscriber.start()
            try:
                # Warm-up (not counted): the subscription is live once one of these is heard.
                if not enough(candidates, options.warmup, 0):
                    raise RuntimeError("too few candidates for the warm-up")
                warm = make_events(candidates, options.warmup, 0)
                print(f"Warm-up: {options.warmup} events at {options.warmup_rate:g}/s (not counted) ...", flush=True)
                warm_step = (await run_step(client, subscriber, graph, warm, options.warmup_rate,
                                            options.warmup / options.warmup_rate, pids)).summary()
                print("  " + row(warm_step), flush=True)
                if not warm_step["events"] - warm_step["missed"] - warm_step["lost"]:
                    raise RuntimeError("the subscription heard nothing in the warm-up")
                index = options.warmup
                for rate in options.rates:
                    seconds = options.seconds_at(rate)
                    count = round(rate * seconds)
                    if not enough(candidates, count, index):
                        stopped = f"out of candidates before {rate:g} events/s"
                        break
                    print(f"Rate {rate:g} events/s for {seconds:g} s ({count} events) ...", flush=True)
                    events = make_events(candidates, count, index)
                    index += count
                    summary = (await run_step(client, subscriber, graph, events, rate, seconds, pids)).summary()
                    steps.append(summary)
                    print("  " + row(summary), flush=True)
                    for stall in summary["stalls"]:
                        print(f"    slow stretch {stall['start']:.1f}-{stall['end']:.1f} s into the step: "
                              f"{stall['events']} events, worst latency {stall['worst_latency']:.2f} s, "
                              f"worst mutation {stall['worst_mutation']:.2f} s", flush=True)
                    if reason := backlog(summary):
                        stopped = f"at {rate:g} events/s: {reason}"
                        break
                    await asyncio.sleep(2)
                extra = {"warmup": {k: v for k, v in warm_step.items() if k not in ("per_event", "_points")},
                         "unexpected_messages": len(subscriber.unexpected),
                         "unexpected_examples": subscriber.unexpected[:5], "messages": subscriber.messages}
            finally:
                await subscriber.stop()
    text = log.read_text(errors="replace")
    extra["service_log"] = {"retried_transactions": text.count("will be retried"),
                            "failed_rounds": text.count("live evaluation round failed"),
                            "tracebacks": text.count("Traceback")}
    return steps, stopped, extra


async def benchmark(options: Options, root: Path, server: LocalNeo4j, work: Path) -> dict[str, Any]:
    graph = Graph(Neo4jConnection(server.uri, "neo4j", SecretStr(PASSWORD), "neo4j"))
    try:
        await graph.migrate()
        print(f"Ingesting {root.relative_to(PROJECT_ROOT)} ...", flush=True)
        ingest = await ingest_all(graph, root)
        counts = await graph_counts(graph)
        sizes = await company_sizes(graph)
        segment_id, candidates = await save_segment(graph, options.seed)
        print(f"Candidates: {len(candidates.visits):,} people for visits, {len(candidates.opportunities):,} "
              f"companies for opportunity updates", flush=True)
        visit_candidates, opportunity_candidates = len(candidates.visits), len(candidates.opportunities)
        spare_visits = [c["email"] for c in candidates.visits[:500]]  # profiled later, never sent
        phase_visits = candidates.visits[500:520]  # timed in process later, never sent
        candidates.visits = candidates.visits[520:]
        spare = candidates.opportunities.pop(0)
        phase_companies = candidates.opportunities[:5]
        candidates.opportunities = candidates.opportunities[5:]
        lift = lifting(spare, candidates.threshold)
        ladder_began = time.time()
        steps, stopped, extra = await ladder(options, server, graph, segment_id, candidates, work)
        extra["neo4j_log"] = neo4j_log_events(server, ladder_began)
        for line in extra["neo4j_log"]:
            step = max((s for s in steps if s["began"] <= line["at"]), key=lambda s: s["began"], default=None)
            line["step"] = step and step["rate"]
            line["seconds_into_step"] = step and round(line["at"] - step["began"], 2)
        print("Profiling the incremental evaluation query ...", flush=True)
        profiles = await profile_evaluation(graph, segment_id, {
            "one person (a visit)": (spare_visits[:1], None),
            "one company (an opportunity)": (spare["people"], lift),
            "a full round (500 people, visits)": (spare_visits[:500], None)})
        print("Timing one event at a time in process ...", flush=True)
        timed = await phases(graph, candidates.threshold, phase_visits, phase_companies)
        for kind, figures in timed.items():
            print(f"  {kind}: " + ", ".join(f"{k} {v * 1000:.1f} ms" if k.startswith(("mutation", "round:")) and
                                              not k.endswith(("claimed", "entered")) else f"{k} {v:g}"
                                              for k, v in figures.items()), flush=True)
        return {
            "people": options.people, "seed": options.seed, "as_of": ingest["as_of"],
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "neo4j": neo4j_version(),
                        "heap": HEAP, "pagecache": PAGECACHE},
            "graph": {"nodes": counts["nodes"], "relationships": counts["relationships"],
                      "people": counts["labels"].get("Person", 0), "accounts": counts["labels"].get("Account", 0),
                      "companies": counts["labels"].get("Company", 0),
                      "opportunities": counts["labels"].get("Opportunity", 0),
                      "web_visits": counts["labels"].get("WebVisit", 0), "people_per_company": sizes},
            "ingest": ingest,
            "segment": {"rule": audience_rule(candidates.threshold, NEW_PRODUCT_PAGE, WITHIN_DAYS),
                        "threshold": candidates.threshold, "companies": candidates.companies,
                        "qualifying_companies": candidates.qualifying, "members_before": candidates.members,
                        "visit_candidates": visit_candidates, "opportunity_candidates": opportunity_candidates},
            "settings": {"rates": options.rates, "seconds_per_rate": options.seconds,
                         "max_events_per_rate": options.max_events,
                         "warmup_events": options.warmup, "warmup_rate": options.warmup_rate, "lost_after": LOST_AFTER,
                         "opportunity_share": 1 / OPPORTUNITY_SHARE, "live_poll_seconds": 1, "target_p95": TARGET_P95},
            "steps": steps, "stopped": stopped,
            "sustained": max((s["rate"] for s in steps if backlog(s) is None), default=None),
            "subscription": extra, "evaluation_profile": profiles, "phases_in_process": timed,
        }
    finally:
        await graph.close()


# ---- reporting --------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:,.0f}"


HEADER = (f"{'rate/s':>6} {'events':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} {'lost':>5} "
          f"{'missed':>6} "
          f"{'achieved/s':>10} {'mutation p50':>12} {'cpu neo4j/svc/client':>21}")


def row(s: dict[str, Any]) -> str:
    latency, cores = s["latency"], s["cpu_cores"]
    share = "/".join(f"{cores[k]:.2f}" for k in ("neo4j", "service", "client"))
    achieved = "-" if s["achieved"] is None else f"{s['achieved']:.1f}"
    return (f"{s['rate']:>6g} {s['events']:>6} {_ms(latency['p50']):>7} {_ms(latency['p95']):>7} "
            f"{_ms(latency['p99']):>7} {_ms(latency['max']):>7} {s['lost']:>5} {s['missed']:>6} {achieved:>10} "
            f"{_ms(s['mutation_seconds']['p50']):>9} ms {share:>21}")


def table(figures: dict[str, Any]) -> str:
    graph = figures["graph"]
    lines = [f"Live-audience latency: {figures['people']:,} people generated ({graph['people']:,} after merging), "
             f"{graph['accounts']:,} accounts, {graph['companies']:,} companies, "
             f"{graph['relationships']:,} relationships",
             f"segment: company closed-won total > {figures['segment']['threshold']:,.0f} and a new-product visit "
             f"within {WITHIN_DAYS} days ({figures['segment']['members_before']:,} members at the start)",
             HEADER, "-" * len(HEADER)]
    lines += [row(s) for s in figures["steps"]]
    lines.append(f"stopped: {figures['stopped'] or 'the whole ladder ran'}; sustained (p95 <= "
                 f"{TARGET_P95:.0f} s, no backlog): {figures['sustained'] or '-'} events/s")
    return "\n".join(lines)


def trim(figures: dict[str, Any]) -> None:
    """Keep each event's row (kind, sent at, mutation seconds, latency, returned -> evaluated, fate)
    only for the steps worth a closer look: those with slow stretches or that did not keep up."""
    for step in figures["steps"]:
        if not step["stalls"] and backlog(step) is None:
            step.pop("per_event", None)


def compact_json(figures: dict[str, Any]) -> str:
    """Indented JSON with every list of plain values (a per-event row, a timeline) on one line."""
    text = json.dumps(figures, indent=2, default=str)
    return re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + re.sub(r"\s*\n\s*", " ", m.group(1)) + "]", text)


def limit_note(figures: dict[str, Any]) -> list[str]:
    """Where the CPU was at the first rate that did not keep up, if one did not."""
    failed = [s for s in figures["steps"] if backlog(s)]
    if not failed:
        return []
    s = failed[0]
    timeline = s["cpu_timeline"]
    busy = sorted(timeline.get("service", []))
    service = busy[len(busy) // 2] if busy else 0.0
    neo4j = [sum(timeline[k][i] for k in ("jit", "gc", "bolt", "other")) for i in range(len(timeline.get("t", [])))]
    watched = s["long_transactions"]
    return [f"At {s['rate']:g} events/s ({backlog(s)}): the service process ran at a median {service:.2f} cores "
            f"(one Python process, so at most one core), Neo4j at {statistics.median(neo4j) if neo4j else 0:.2f}, "
            f"this client at {s['cpu_cores']['client']:.2f}, of {figures['machine']['cpus']}; "
            f"{watched.get('idle', 0)} of the {watched.get('count', 0)} Neo4j transactions seen open for 200 ms or "
            "more were idle, waiting for the service to send their next query.", ""]


def missed_note(figures: dict[str, Any]) -> list[str]:
    """A paragraph on the events whose change never reached the audience, if there were any."""
    steps = [figures["subscription"]["warmup"], *figures["steps"]]
    missed = {kind: sum(s["missed_by_kind"][kind] for s in steps) for kind in ("visit", "opportunity")}
    sent = {kind: sum(s[f"{kind}s" if kind == "visit" else "opportunities"] for s in steps)
            for kind in ("visit", "opportunity")}
    if not any(missed.values()):
        return []
    return [f"**Missed** (not in the latency figures, warm-up included): {missed['visit']} of {sent['visit']} visit "
            f"and {missed['opportunity']} of {sent['opportunity']} opportunity events committed, yet the people they "
            "should have brought in were never re-evaluated: after the step they were neither marked "
            "`:PendingEvaluation` nor members. The change did not mark them.", ""]


def markdown(figures: dict[str, Any], png: str, command: str) -> str:
    graph, segment, ingest = figures["graph"], figures["segment"], figures["ingest"]
    machine = figures["machine"]
    lines = [
        "# Live audiences: latency under a stream of events",
        "",
        f"`{command}` ([benchmarks/realtime.py](../../benchmarks/realtime.py)); figures in "
        f"[{Path(png).with_suffix('.json').name}]({Path(png).with_suffix('.json').name}).",
        "",
        "**The target** (from the issue): the cross-account rule, *company closed-won total above a threshold and a "
        f"visit to the new product page in the last {WITHIN_DAYS} days*, kept live with a p95 under one second from "
        f"a change's mutation returning to the subscriber hearing the person enter, on this {machine['cpus']}-core "
        f"machine with 100k people.",
        "",
        "## Result",
        "",
        "| events/s | held s | events | p50 ms | p95 ms | p99 ms | max ms | lost | missed | heard/s | mutation p50 ms "
        "| CPU cores: Neo4j / service / client |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in figures["steps"]:
        latency, cores = s["latency"], s["cpu_cores"]
        lines.append(
            f"| {s['rate']:g} | {s['seconds']:g} | {s['events']} | {_ms(latency['p50'])} | {_ms(latency['p95'])} | "
            f"{_ms(latency['p99'])} | "
            f"{_ms(latency['max'])} | {s['lost']} | {s['missed']} | {s['achieved'] or 0:.1f} | "
            f"{_ms(s['mutation_seconds']['p50'])} | "
            f"{cores['neo4j']:.2f} / {cores['service']:.2f} / {cores['client']:.2f} |")
    lines += [
        "",
        "One run: near the limit the result varies from run to run, as a one-off stall of a second or two in a "
        "short step is enough to push its p95 over the target.",
        "",
        f"Stopped: {figures['stopped'] or 'the whole ladder ran'}. Sustained rate with p95 within "
        f"{TARGET_P95:.0f} s and no backlog: **{figures['sustained'] or '-'} events/s**.",
        "",
        *limit_note(figures),
        *missed_note(figures),
        f"![latency percentiles against the event rate]({Path(png).name})",
        "",
        "Latency by kind of event (p50 / p95 ms):",
        "",
        "| events/s | visit | opportunity (first person of the company) | returned → evaluated p50 / p95 "
        "| evaluated → delivered p50 / p95 |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in figures["steps"]:
        visit, opportunity = s["by_kind"]["visit"], s["by_kind"]["opportunity"]
        lines.append(f"| {s['rate']:g} | {_ms(visit['p50'])} / {_ms(visit['p95'])} | "
                     f"{_ms(opportunity['p50'])} / {_ms(opportunity['p95'])} | "
                     f"{_ms(s['returned_to_evaluated']['p50'])} / {_ms(s['returned_to_evaluated']['p95'])} | "
                     f"{_ms(s['evaluated_to_delivered']['p50'])} / {_ms(s['evaluated_to_delivered']['p95'])} |")
    lines += [
        "",
        "## Method",
        "",
        f"- **Data**: `benchmarks.generate` export for {figures['people']:,} people (seed {figures['seed']}, as of "
        f"{figures['as_of']}), imported source by source and then MDM with `ingest_path` in "
        f"{ingest['seconds']:.0f} s ({ingest['rows']:,} rows). The graph: {graph['people']:,} people, "
        f"{graph['accounts']:,} accounts in {graph['companies']:,} companies (median "
        f"{graph['people_per_company']['median']:g} people per company), {graph['opportunities']:,} opportunities, "
        f"{graph['web_visits']:,} web visits; {graph['nodes']:,} nodes, {graph['relationships']:,} relationships.",
        f"- **Neo4j** {machine['neo4j']} (community), local, heap {machine['heap']}, "
        f"page cache {machine['pagecache']}; "
        f"{machine['cpus']} cores shared by Neo4j, the service and the load generator.",
        f"- **Segment**: `audience_rule({segment['threshold']:,.0f}, NEW_PRODUCT_PAGE, {WITHIN_DAYS})`, the threshold "
        f"being the median company's closed-won total ({segment['qualifying_companies']:,} of "
        f"{segment['companies']:,} companies above it), saved with `store.create` and evaluated with "
        f"`engine.evaluate`: {segment['members_before']:,} members at the start.",
        "- **Service**: `python -m service.cli serve` in its own process (`LIVE_POLL_SECONDS=1`); one "
        "graphql-transport-ws subscriber to `audienceChanges(segmentId)`.",
        f"- **Events**: after a warm-up of {figures['settings']['warmup_events']} events at "
        f"{figures['settings']['warmup_rate']:g}/s (not counted: the JVM is still compiling the code paths these "
        f"queries take), each rate is held for {figures['settings']['seconds_per_rate']:g} s, or at high rates for "
        f"about {figures['settings']['max_events_per_rate']} events (at least {MIN_SECONDS:g} s), as every fifth "
        f"event uses up one of the {figures['segment']['opportunity_candidates']} candidate companies. One mutation "
        "per event on a fixed schedule (a mutation does not wait for the previous one): "
        "80 % `recordWebVisits` (a visit to the new "
        "product page now, by a person of a qualifying company who is not in the segment), 20 % "
        "`upsertOpportunities` (a company below the threshold with a recent visitor: its largest Closed Won deal's "
        "amount raised to lift the company over it, or for a company without one, its largest open deal closed as "
        "won for the gap). No candidate is used twice.",
        f"- **Latency**: arrival of the ENTERED message (for an opportunity, the first person of the company) minus "
        f"the moment the mutation's HTTP response arrived; no message within {LOST_AFTER:g} s = lost. "
        "*Returned → evaluated* uses the change's `at` (the evaluating transaction's clock, same machine), "
        "*evaluated → delivered* is the rest (commit, publish, WebSocket).",
        f"- **Stop**: the ladder stops climbing at the first rate with p95 over {TARGET_P95:g} s, a lost or failed "
        "event, latency rising within the step (last third's median over twice the first third's) or throughput "
        "under 90 % of the rate.",
        "",
        "## Where the time goes",
        "",
        "The incremental evaluation query (`cypher/segments/templates/segment_evaluate_people.cypher` with this "
        "rule), PROFILEd with the service stopped, for people given a visit to the page in the same (rolled back) "
        "transaction:",
        "",
        "| batch | people | entering | ms (under PROFILE) | db hits |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for p in figures["evaluation_profile"]:
        lines.append(
            f"| {p['batch']} | {p['people']} | {p['entered']} | {p['seconds'] * 1000:.1f} | {p['db_hits']:,} |")
    lines += [
        "",
        "CPU per event during each step (ms; Neo4j's threads from /proc: the JIT compilers, GC, the Bolt threads "
        "that run the queries, the rest), and the service process:",
        "",
        "| events/s | Neo4j JIT | Neo4j GC | Neo4j Bolt (queries) | Neo4j other | service (Python) |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in [figures["subscription"]["warmup"] | {"rate": "warm-up"}] + figures["steps"]:
        per = s["neo4j_cpu_ms_per_event"]
        rate = s["rate"] if isinstance(s["rate"], str) else f"{s['rate']:g}"
        lines.append(f"| {rate} | {per['jit']:.0f} | {per['gc']:.0f} | {per['bolt']:.0f} | {per['other']:.0f} | "
                     f"{s['service_cpu_ms_per_event']:.0f} |")
    lines += [
        "",
        "One event at a time, written in process as the mutation writes it (`ingest_tables`) and followed by "
        "one live round as `Evaluator.evaluate_pending` runs it (medians, ms):",
        "",
        "| event | write (all) | of which upsert | of which mark | round (all) | read rules | claim | evaluate "
        "| commit | people claimed |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, t in figures["phases_in_process"].items():
        upsert = t.get(f"mutation:{Q.WEB_VISITS_UPSERT}", t.get(f"mutation:{Q.OPPORTUNITIES_UPSERT}", 0))
        lines.append(f"| {kind} | {t['mutation'] * 1000:.1f} | {upsert * 1000:.1f} | "
                     f"{t.get(f'mutation:{Q.PEOPLE_MARK_FOR_EVALUATION}', 0) * 1000:.1f} | "
                     f"{t['round:round'] * 1000:.1f} | "
                     f"{t['round:segments_read'] * 1000:.1f} | {t['round:claim'] * 1000:.1f} | "
                     f"{t['round:evaluate'] * 1000:.1f} | {t['round:commit'] * 1000:.1f} | {t['round:claimed']:g} |")
    lines += ["", "Slow stretches (runs of events whose mutation or latency took over 250 ms), with the Neo4j "
              "transactions seen open for 200 ms or more during the step:", ""]
    quiet = []
    for s in [figures["subscription"]["warmup"] | {"rate": "warm-up"}] + figures["steps"]:
        if not s["stalls"] and not s["long_transactions"].get("count"):
            quiet.append(s["rate"] if isinstance(s["rate"], str) else f"{s['rate']:g}/s")
            continue
        rate = s["rate"] if isinstance(s["rate"], str) else f"{s['rate']:g}/s"
        stretches = "; ".join(f"{x['start']:.1f}-{x['end']:.1f} s: {x['events']} events, worst latency "
                              f"{x['worst_latency'] * 1000:,.0f} ms, "
                              f"worst mutation {x['worst_mutation'] * 1000:,.0f} ms"
                              for x in s["stalls"]) or "none"
        watched = s["long_transactions"]
        named = [t for t in watched.get("longest", []) if t["query"] != IDLE][:4]
        long = (f"{watched.get('count', 0)} ({watched.get('idle', 0)} of them idle, waiting for the service)"
                + "".join(f"; {t['query'].removeprefix('// name: ')} from {t.get('at', 0):.1f} s for "
                          f"{t.get('elapsed', 0):,} ms" for t in named))
        lines.append(f"- {rate}: {stretches}. Transactions open 200 ms or more: {long}.")
    if quiet:
        lines.append(f"- {', '.join(quiet)}: none.")
    sub = figures["subscription"]
    lines += [
        "",
        f"Service log: {sub['service_log']['retried_transactions']} retried transactions, "
        f"{sub['service_log']['failed_rounds']} failed live rounds; {sub['unexpected_messages']} unexpected "
        "subscription messages.",
        "",
    ]
    return "\n".join(lines)


def plot(figures: dict[str, Any], points: dict[float, list[tuple[float, float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    steps = figures["steps"]
    rates = [s["rate"] for s in steps]
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    left = axes[0]
    for name, marker in (("p50", "o"), ("p95", "s"), ("p99", "^")):
        left.plot(rates, [s["latency"][name] for s in steps], marker=marker, label=name)
    left.plot(rates, [s["latency"]["max"] for s in steps], linestyle=":", color="grey", label="max")
    left.axhline(TARGET_P95, color="red", linestyle="--", label="target: p95 < 1 s")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xticks(rates, [f"{r:g}" for r in rates])
    left.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    left.set_xlabel("events per second (fixed rate)")
    left.set_ylabel("mutation returned → subscriber heard ENTERED (s)")
    left.set_title("Latency percentiles by rate")
    left.grid(True, which="both", alpha=0.3)
    left.legend(loc="center right")
    right = axes[1]
    for rate, latencies in points.items():
        right.scatter([p[0] for p in latencies], [p[1] for p in latencies], s=6, label=f"{rate:g}/s")
    right.axhline(TARGET_P95, color="red", linestyle="--")
    right.set_yscale("log")
    right.set_xlabel("seconds into the step (send time)")
    right.set_ylabel("latency (s)")
    right.set_title("Each event's latency within its step")
    right.grid(True, which="both", alpha=0.3)
    right.legend(title="rate", fontsize="small")
    figure.suptitle(f"Live audience, {figures['people']:,} people, {figures['machine']['cpus']} cores, "
                    f"Neo4j {figures['machine']['neo4j']}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


# ---- command line -----------------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.realtime", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rates", type=lambda text: [float(r) for r in text.split(",")],
                        default=[2, 5, 10, 20, 40, 60, 80, 100],
                        help="the ladder of fixed rates, events per second (comma-separated)")
    parser.add_argument("--seconds", type=float, default=20, help="how long each rate is held")
    parser.add_argument("--max-events", type=int, default=600,
                        help=f"hold high rates only for about this many events (at least {MIN_SECONDS:g} s)")
    parser.add_argument("--warmup", type=int, default=100,
                        help="events sent before the ladder, not counted: "
                             "the JVM compiles the new code paths meanwhile")
    parser.add_argument("--warmup-rate", type=float, default=5)
    parser.add_argument("--keep-log", action="store_true", help="keep the service's log (its path is printed)")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    options = Options(args.people, args.seed, args.rates, args.seconds, args.max_events, args.warmup, args.warmup_rate)
    today = datetime.now(UTC).date()
    root, generation_seconds = export_for(args.people, args.seed, today)
    work = Path(tempfile.mkdtemp(prefix="accountgraph-realtime-"))  # the service's log; kept if the run fails
    try:
        with throwaway_neo4j() as server:
            figures = asyncio.run(benchmark(options, root, server, work))
    except BaseException:
        print(f"The service's log is kept in {work}", file=sys.stderr)
        raise
    if args.keep_log:
        print(f"Service log: {work / 'service.log'}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    figures["generation_seconds"] = generation_seconds
    print(table(figures))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = "realtime" if args.people == 100_000 else f"realtime-{args.people}"
    command = "python -m benchmarks.realtime " + " ".join(sys.argv[1:])
    png = RESULTS / f"{stem}.png"
    points = {s["rate"]: s.pop("_points") for s in figures["steps"]}
    trim(figures)
    figures["subscription"]["warmup"].pop("_points", None)
    (RESULTS / f"{stem}.json").write_text(compact_json(figures) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown(figures, str(png), command.strip()))
    plot(figures, points, png)
    written = (str((RESULTS / f"{stem}{ext}").relative_to(PROJECT_ROOT)) for ext in (".json", ".md", ".png"))
    print(f"Written: {', '.join(written)}")


if __name__ == "__main__":
    main()
