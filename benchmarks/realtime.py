"""Live-audience throughput and latency: visit events sent one per request at fixed rates through
`POST /events` and through the GraphQL mutation `recordWebVisits`, against a generated data set,
timed from each response to the subscription message it causes.

    python -m benchmarks.realtime --people 100000            # both paths, rates 100 ... 1500/s
    python -m benchmarks.realtime --quick                    # a short check: 100, 500, 1000/s for 4 s
    python -m benchmarks.realtime --paths graphql --rates 50,100

1. The export: .cache/bench/<N>/ when its `as_of` is recent enough for the rule's 30-day window
   to be well populated, else one generated with `as_of` = today (UTC) into
   .cache/bench/realtime-<N>/ (the ingest benchmark's fixed-date export is left as it is).
2. A throwaway local Neo4j (heap 4g, page cache 4g, free loopback ports, temporary home): migrate,
   import every source and then MDM with `service.ingest.pipeline.ingest_path` (timed).
3. The Townsend segment, saved and evaluated through the store and engine:
   `audience_rule(threshold, NEW_PRODUCT_PAGE, 30)`, the threshold being the median company's
   closed-won total, so that about half of the companies qualify on revenue. Candidates, by Cypher:
   people of qualifying companies who are not in the segment (no recent visit to the page).
4. The real service in a subprocess (`python -m service.cli serve`, LIVE_POLL_SECONDS=1), so the
   client and the server do not share a GIL; one graphql-transport-ws subscriber to
   `audienceChanges(segmentId)`.
5. For each path (`events_post`, then `graphql`): a warm-up (not counted), then a ladder of fixed
   rates, each held for --seconds: event n is due at n / rate seconds and sent by the first of
   CLIENTS (20) keep-alive connections that is free, one request in flight per connection. One
   event in --entering-share (4) is a visit by a fresh candidate, who must enter; the others
   are repeat visits by people heard entering earlier in the run, which must be stored and heard
   not at all. Latency = arrival of the ENTERED message - the moment the response arrived (entering
   events). An entering event not heard 10 s after that is lost if its person is still marked or a
   member by then, and missed if neither (the change never marked them); an answered event whose
   visit is not in the graph is lost. A ladder stops climbing once p95 is over the target,
   anything is lost, missed or failed, a backlog builds (latency rising within the step) or the
   clients fall behind the rate. After the ladders the members the live loop kept are compared
   with a full evaluation of the rule (the same people, or the run says so).
6. Where the time goes: the CPU of Neo4j (by kind of thread), the service and this client per
   step; the service-side timestamp of each change (`at`, set in the evaluating transaction)
   splits each latency into "response -> evaluated" and "evaluated -> delivered"; after the
   ladders, with the service stopped, the incremental evaluation query is PROFILEd for batches
   of 1, one company and 500 people (in a transaction that is rolled back), and single events are
   written and evaluated in process with every phase timed.

Prints a table and writes docs/benchmarks/realtime.json (`sustained_events_post`,
`sustained_graphql`: the highest rate each path kept up with), realtime.md and realtime.png (with
`--people` other than 100,000 the files are named realtime-<N>.*, with --quick realtime-quick.*).
Loopback only; the service and Neo4j are stopped at the end, also on errors.
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
TARGET_P95 = 1.0  # seconds, the issue's target for the cross-account rule
LOST_AFTER = 10.0  # seconds after the response
CLIENTS = 20  # concurrent connections sending events, one request in flight each
PATHS = {"events_post": "POST /events", "graphql": "GraphQL recordWebVisits"}
VISIT_MARGIN_DAYS = 27  # opportunity candidates' visits must be this recent, so none expires mid-run
SUBSCRIBE = "subscription ($id: ID) { audienceChanges(segmentId: $id) { email change at } }"
VISIT = """mutation ($source: String!, $id: String!, $person: String!, $url: String!, $at: DateTime!) {
  recordWebVisits(source: $source, visits: [{id: $id, personId: $person, url: $url, visitedAt: $at}]) { records } }"""


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
def service(server: LocalNeo4j, log: Path, checkout: Path = PROJECT_ROOT,
            profile: Path | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes], dict[str, str]]]:
    """The service (of `checkout`, this one unless told; under cProfile with `profile`) against the
    throwaway Neo4j, with an admin key made for the run (yielded as the headers to send); stopped on exit."""
    connection = Neo4jConnection(server.uri, "neo4j", SecretStr(PASSWORD), "neo4j")
    key = subprocess.run([sys.executable, "-m", "service.cli", "key", "create", "--name", f"benchmark {log}",
                          "--scope", "admin"], cwd=PROJECT_ROOT, env=environment(connection), check=True,
                         capture_output=True, text=True).stdout.strip()
    with serve(connection, log, checkout, profile, LIVE_POLL_SECONDS="1", LIVE_SWEEP_SECONDS="60") as (url, process):
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
    """One visit to the new product page, one request. An entering event is a visit by a person of a
    qualifying company who is not in the segment: it must bring them in, heard once. A repeat is a
    visit by a person already in (brought in earlier in the run): it must be stored, and heard not at
    all (the person stays in)."""

    index: int
    kind: str  # enter or repeat
    email: str
    source: str
    key: str  # the person's id in the source
    visit_id: str
    scheduled: float = 0.0  # on the event loop's clock
    late: float = 0.0  # seconds the send came after its schedule (all clients were busy)
    sent: float | None = None
    returned: float | None = None
    arrived: float | None = None  # the ENTERED it caused
    evaluated: float | None = None  # that change's `at`: the evaluating transaction's clock
    received: int = 0
    error: str | None = None
    fate: str | None = None  # for an entering event never heard: pending, late or missed (see classify)

    @property
    def latency(self) -> float | None:
        return None if self.arrived is None or self.returned is None else self.arrived - self.returned

    def request(self, path: str) -> tuple[str, bytes]:
        """The HTTP path and JSON body that send this visit by `path` (events_post or graphql)."""
        at = datetime.now(UTC).isoformat()
        if path == "events_post":
            return "/events", json.dumps({"source": self.source, "events": [{
                "type": "webVisit", "Id": self.visit_id, "PersonId": self.key, "Url": NEW_PRODUCT_PAGE,
                "VisitedAt": at}]}).encode()
        return "/graphql", json.dumps({"query": VISIT, "variables": {
            "source": self.source, "id": self.visit_id, "person": self.key, "url": NEW_PRODUCT_PAGE,
            "at": at}}).encode()


class Subscriber:
    """One graphql-transport-ws subscription to audienceChanges(segmentId); every message timed."""

    def __init__(self, url: str, segment_id: str, headers: dict[str, str]) -> None:
        self.url = url.replace("http", "ws", 1) + "/graphql"
        self.headers = headers
        self.segment_id = segment_id
        self.owners: dict[str, Event] = {}  # email -> the entering event that should bring them in
        self.unexpected: list[dict[str, Any]] = []  # LEFT, a second ENTERED, or a person nobody sent
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
            if event is None or change["change"] != "ENTERED" or event.arrived is not None:
                self.unexpected.append(change)
                continue
            event.received += 1
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




class Pool:
    """The people events are made for: fresh candidates (not in the segment, of a qualifying company;
    each used once) and members heard entering earlier in the run (for repeat visits, drawn at random)."""

    def __init__(self, fresh: list[dict[str, Any]], seed: int) -> None:
        self.fresh = fresh
        self.members: list[dict[str, Any]] = []
        self.rng = random.Random(seed)
        self.made = 0

    def entering_in(self, count: int, share: int) -> int:
        """How many of `count` events are entering: every `share`-th (all while no member is heard yet)."""
        return count if not self.members or share <= 1 else -(-count // share)

    def enough(self, count: int, share: int) -> bool:
        return self.entering_in(count, share) <= len(self.fresh)

    def events(self, count: int, share: int, label: str) -> list[Event]:
        """`count` events, the entering ones spread evenly among the repeats."""
        entering = self.entering_in(count, share)
        made = []
        for number in range(count):
            enter = number * entering // count != (number + 1) * entering // count
            person = self.fresh.pop() if enter else self.rng.choice(self.members)
            self.made += 1
            made.append(Event(self.made, "enter" if enter else "repeat", person["email"], person["source"],
                              person["key"], f"rt-bench-{label}-{self.made}"))
        return made

    def heard(self, events: list[Event]) -> None:
        self.members += [{"email": e.email, "source": e.source, "key": e.key}
                         for e in events if e.kind == "enter" and e.arrived is not None]


class Connection:
    """One client: a keep-alive HTTP/1.1 connection on which it sends one request at a time. Written
    by hand (a request is a few bytes to format, a response a status line and a Content-Length), so
    that at a thousand requests a second the load generator costs the 2-core machine little."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parsed = httpx.URL(url)
        self.host, self.port = parsed.host, parsed.port or 80
        self.head = "".join(f"{name}: {value}\r\n" for name, value in
                            {"Host": f"{self.host}:{self.port}", "Content-Type": "application/json",
                             **headers}.items()).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        try:
            self.writer.write(b"POST " + path.encode() + b" HTTP/1.1\r\n" + self.head +
                              b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            lines = head.lower().split(b"\r\n")
            length = next(int(line.split(b":", 1)[1]) for line in lines if line.startswith(b"content-length:"))
            answer = await self.reader.readexactly(length)
            if any(line.startswith(b"connection:") and b"close" in line for line in lines):
                self.close()
            return status, answer
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def send(connection: Connection, path: str, event: Event) -> None:
    url_path, body = event.request(path)
    event.sent = time.time()
    try:
        status, answer = await connection.post(url_path, body)
        if status != 200 or (path == "graphql" and b'"errors"' in answer):
            event.error = f"{status}: {answer[:300].decode(errors='replace')}"
    except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration) as error:
        event.error = f"{type(error).__name__}: {error}"
    event.returned = time.time()


async def drive(url: str, headers: dict[str, str], path: str, events: list[Event], rate: float,
                clients: int) -> None:
    """Send the events on a fixed schedule (event n at n / rate seconds) through `clients` concurrent
    clients, each with one request in flight at a time: when all are busy, the next event waits for
    one, so a server that cannot keep up shows as a send rate behind the schedule."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    schedule = iter(enumerate(events))

    async def client() -> None:
        connection = Connection(url, headers)
        try:
            for number, event in schedule:  # one iterator shared by the clients: each event sent once
                event.scheduled = start + number / rate
                delay = event.scheduled - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                event.late = max(0.0, loop.time() - event.scheduled)
                await send(connection, path, event)
        finally:
            connection.close()

    await asyncio.gather(*(client() for _ in range(clients)))


CLASSIFY = """
UNWIND $emails AS email
MATCH (p:Person {email: email})
RETURN email, p:PendingEvaluation AS pending, EXISTS { (p)-[:IN_SEGMENT]->(:Segment {id: $segmentId}) } AS member
"""
STORED = """
UNWIND $visits AS visit
MATCH (v:WebVisit {source: visit.source, sourceKey: visit.id})
RETURN count(v) AS stored
"""


async def classify(graph: Graph, segment_id: str, unheard: list[Event]) -> None:
    """Why an entering event was not heard in time: its person is still marked (pending: a backlog),
    is a member now (late: evaluated, but the message came after LOST_AFTER or not at all), or
    neither (missed: the change never marked them, so nothing re-evaluated them)."""
    emails = sorted({event.email for event in unheard})
    state = {row["email"]: row for row in await query(graph, CLASSIFY, emails=emails, segmentId=segment_id)}
    for event in unheard:
        row = state.get(event.email, {})
        event.fate = "pending" if row.get("pending") else "late" if row.get("member") else "missed"


async def stored(graph: Graph, events: list[Event]) -> int:
    """How many of the events that were answered 200 have their visit in the graph."""
    visits = [{"source": e.source, "id": e.visit_id} for e in events if e.error is None]
    return int((await query(graph, STORED, visits=visits))[0]["stored"]) if visits else 0


# ---- one step of the ladder -------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def stats(values: list[float]) -> dict[str, float | None]:
    return {"p50": percentile(values, 0.5), "p95": percentile(values, 0.95),
            "p99": percentile(values, 0.99), "max": max(values) if values else None}


@dataclass
class Step:
    path: str
    rate: float
    seconds: float
    events: list[Event] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process over the step
    neo4j_threads: dict[str, float] = field(default_factory=dict)  # Neo4j's CPU seconds by thread kind
    wall: float = 0.0  # seconds over which the CPU was measured: the sends, and one second more
    timeline: dict[str, list[float]] = field(default_factory=dict)  # cores busy per half second
    began: float = 0.0  # wall clock of the first send
    long_transactions: dict[str, Any] = field(default_factory=dict)
    stored: int = 0  # visits of answered events found in the graph after the step
    pending_after: int | None = None

    def summary(self) -> dict[str, Any]:
        entering = [e for e in self.events if e.kind == "enter"]
        done = [e for e in entering if e.latency is not None]
        latencies = [e.latency for e in done if e.latency is not None]
        unheard = [e for e in entering if e.error is None and e.arrived is None]
        # Heard, but after LOST_AFTER (the drain waits that long after the last response only): lost too.
        lost = [e for e in unheard if e.fate != "missed"] + [e for e in done if (e.latency or 0) > LOST_AFTER]
        missed = [e for e in unheard if e.fate == "missed"]
        answered = [e for e in self.events if e.error is None]
        sent = [e.sent for e in self.events if e.sent]
        first_sent, last_sent = min(sent, default=0.0), max(sent, default=0.0)
        last_returned = max((e.returned for e in self.events if e.returned), default=first_sent)
        thirds = len(entering) // 3
        early = [e.latency for e in entering[:thirds] if e.latency is not None]
        late = [e.latency for e in entering[-thirds:] if e.latency is not None] if thirds else []
        response = [e.returned - e.sent for e in self.events if e.returned and e.sent]
        return {
            "path": self.path, "rate": self.rate, "seconds": self.seconds, "events": len(self.events),
            "entering": len(entering), "repeats": len(self.events) - len(entering),
            "latency": stats(latencies),
            "lost": len(lost) + (len(answered) - self.stored),
            "lost_entering": len(lost), "unstored": len(answered) - self.stored, "stored": self.stored,
            "lost_events": [{"email": e.email, "fate": e.fate} for e in lost][:20],
            "missed": len(missed), "missed_events": [e.email for e in missed][:20],
            "errors": len(self.events) - len(answered),
            "error_examples": sorted({e.error for e in self.events if e.error})[:3],
            "send_rate": (len(sent) - 1) / (last_sent - first_sent) if last_sent > first_sent else None,
            "answered_rate": len(answered) / (last_returned - first_sent) if last_returned > first_sent else None,
            "heard": len(done), "messages_received": sum(e.received for e in entering),
            "response_seconds": stats(response), "send_late_p95": percentile([e.late for e in self.events], 0.95),
            "returned_to_evaluated": stats([e.evaluated - e.returned for e in done if e.evaluated and e.returned]),
            "evaluated_to_delivered": stats([e.arrived - e.evaluated for e in done if e.evaluated and e.arrived]),
            "latency_first_third_p50": percentile(early, 0.5), "latency_last_third_p50": percentile(late, 0.5),
            "began": self.began, "cpu_timeline": self.timeline, "long_transactions": self.long_transactions,
            "stalls": stalls(entering, first_sent), "pending_after": self.pending_after,
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
    whose response or latency took over `over` seconds; start, end (seconds into the step), the
    events in it and the worst latency and response time."""
    found: list[dict[str, float]] = []
    for event in sorted((e for e in events if e.sent), key=lambda e: e.sent or 0):
        response = (event.returned or event.sent or 0) - (event.sent or 0)
        slow = max(response, event.latency or 0.0)
        if slow <= over:
            continue
        at = (event.sent or 0) - first_sent
        if found and at - found[-1]["end"] < 0.5:
            found[-1].update(end=round(at, 2), events=found[-1]["events"] + 1,
                             worst_latency=round(max(found[-1]["worst_latency"], event.latency or 0.0), 3),
                             worst_mutation=round(max(found[-1]["worst_mutation"], response), 3))
        else:
            found.append({"start": round(at, 2), "end": round(at, 2), "events": 1,
                          "worst_latency": round(event.latency or 0.0, 3), "worst_mutation": round(response, 3)})
    return found


def backlog(summary: dict[str, Any]) -> str | None:
    """Why the ladder should stop climbing after this step (None: it kept up)."""
    p95 = summary["latency"]["p95"]
    if summary["lost"] or summary["errors"] or summary["missed"]:
        return f"{summary['lost']} lost, {summary['missed']} missed, {summary['errors']} failed"
    if p95 is None or p95 > TARGET_P95:
        return f"p95 {p95:.2f} s over the {TARGET_P95:.0f} s target" if p95 else "no latency measured"
    early, late = summary["latency_first_third_p50"], summary["latency_last_third_p50"]
    if early is not None and late is not None and late > 2 * early and late - early > 0.25:
        return f"latency rising within the step (p50 {early:.2f} s -> {late:.2f} s)"
    if summary["send_rate"] and summary["send_rate"] < 0.9 * summary["rate"]:
        return (f"the {CLIENTS} clients sent {summary['send_rate']:.0f}/s, behind the rate "
                "(the service answers too slowly)")
    return None


async def run_step(url: str, headers: dict[str, str], subscriber: Subscriber, graph: Graph, path: str,
                   events: list[Event], rate: float, seconds: float, pids: dict[str, int | None]) -> Step:
    step = Step(path, rate, seconds, events)
    for event in events:
        if event.kind == "enter":
            subscriber.owners[event.email] = event
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    sampler = ThreadSampler(pids["neo4j"], pids["service"])
    watcher = TransactionWatcher(graph)
    began = time.time()
    await drive(url, headers, path, events, rate, CLIENTS)
    # CPU over the load: from the first send until a second after the last response (the drain below
    # can idle for LOST_AFTER seconds waiting for events that will never be heard).
    await asyncio.sleep(1.0)
    step.wall = time.time() - began
    step.cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
    step.neo4j_threads = await sampler.stop()
    step.timeline = sampler.cores()
    step.long_transactions = watcher.stop()
    step.began = began
    entering = [e for e in events if e.kind == "enter" and e.error is None]
    deadline = max((e.returned or 0.0 for e in events), default=0.0) + LOST_AFTER
    while time.time() < deadline and any(e.arrived is None for e in entering):
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # a moment for a duplicate or an unexpected LEFT to show
    await classify(graph, subscriber.segment_id, [e for e in entering if e.arrived is None])
    step.stored = await stored(graph, events)
    step.pending_after = await pending(graph)
    return step


async def pending(graph: Graph) -> int:
    return int((await query(graph, "MATCH (p:PendingEvaluation) RETURN count(p) AS n"))[0]["n"])


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
                        # and the figures the company holds, which the rule reads, as every write keeps them
                        await (await tx.run(query_file(Q.COMPANIES_ROLLUP).text,
                                            {"keys": [{"source": lift["source"], "sourceKey": lift["account"]}],
                                             "ids": []})).consume()
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
    """One live-loop round as Evaluator.evaluate_pending runs it, timed phase by phase: the claim
    (which reads the saved rules too), the rules compiled (from the evaluator's cache), the
    evaluation of each segment, the commit."""
    started = time.perf_counter()
    times: dict[str, float] = {}
    async with graph.driver.session(database=graph.database) as session:
        tx = await session.begin_transaction()
        try:
            mark = time.perf_counter()
            claim = (await (await tx.run(query_file(Q.PEOPLE_CLAIM_PENDING).text, {"limit": BATCH})).data())[0]
            times["claim"] = time.perf_counter() - mark
            mark = time.perf_counter()
            segments = await evaluator._prepare(claim["segments"])
            times["prepare"] = time.perf_counter() - mark
            entered = 0
            mark = time.perf_counter()
            for segment in segments:
                result = await tx.run(segment.rendered.text, {
                    **segment.compiled.parameters, "segmentId": segment.id, "emails": claim["emails"]})
                entered += sum(len(row["entered"]) for row in await result.data())
            times["evaluate"] = time.perf_counter() - mark
            mark = time.perf_counter()
            await tx.commit()
            times["commit"] = time.perf_counter() - mark
        finally:
            if tx.closed() is False:
                await tx.rollback()
    times["round"] = time.perf_counter() - started
    times["claimed"], times["entered"] = len(claim["emails"]), entered
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
    found: list[dict[str, Any]] = []
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
    paths: list[str]
    rates: list[float]
    seconds: float
    warmup: int
    warmup_rate: float
    entering_share: int
    baseline: Path | None = None  # another checkout whose service runs the same ladders first
    profile: bool = False  # run this checkout's service under cProfile and report where its CPU went


async def drain(graph: Graph, timeout: float = 60.0) -> None:
    """Wait until the live loop has claimed every marked person (so that one step's backlog does not
    land in the next)."""
    deadline = time.monotonic() + timeout
    while await pending(graph) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)


async def ladder(options: Options, server: LocalNeo4j, graph: Graph, segment_id: str, pool: Pool,
                 work: Path, checkout: Path = PROJECT_ROOT) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Each path's warm-up and ladder, one path after the other, against one service process (of
    `checkout`)."""
    ladders: dict[str, dict[str, Any]] = {}
    ours = checkout == PROJECT_ROOT
    log = work / ("service.log" if ours else "baseline-service.log")
    profile = work / "service.prof" if ours and options.profile else None
    with service(server, log, checkout, profile) as (url, process, headers):
        pids = {"neo4j": server.running_pid(), "service": process.pid, "client": os.getpid()}
        subscriber = Subscriber(url, segment_id, headers)
        await subscriber.start()
        try:
            for path in options.paths:
                # Warm-up (not counted): every event entering, which also gives the repeats their people.
                if len(pool.fresh) < options.warmup:
                    raise RuntimeError("too few candidates for the warm-up")
                print(f"{PATHS[path]}: warm-up, {options.warmup} events at {options.warmup_rate:g}/s "
                      "(not counted) ...", flush=True)
                warm = pool.events(options.warmup, 1, f"{path}-warm")
                warm_step = (await run_step(url, headers, subscriber, graph, path, warm, options.warmup_rate,
                                            options.warmup / options.warmup_rate, pids)).summary()
                pool.heard(warm)
                print("  " + row(warm_step), flush=True)
                if not warm_step["heard"]:
                    raise RuntimeError("the subscription heard nothing in the warm-up")
                steps: list[dict[str, Any]] = []
                stopped: str | None = None
                for rate in options.rates:
                    await drain(graph)
                    await asyncio.sleep(2)
                    count = round(rate * options.seconds)
                    if not pool.enough(count, options.entering_share):
                        stopped = f"out of candidates before {rate:g} events/s"
                        break
                    print(f"{PATHS[path]}: {rate:g} events/s for {options.seconds:g} s ({count} events) ...",
                          flush=True)
                    events = pool.events(count, options.entering_share, path)
                    summary = (await run_step(url, headers, subscriber, graph, path, events, rate, options.seconds,
                                              pids)).summary()
                    pool.heard(events)
                    steps.append(summary)
                    print("  " + row(summary), flush=True)
                    for stall in summary["stalls"][:5]:
                        print(f"    slow stretch {stall['start']:.1f}-{stall['end']:.1f} s into the step: "
                              f"{stall['events']} events, worst latency {stall['worst_latency']:.2f} s, "
                              f"worst response {stall['worst_mutation']:.2f} s", flush=True)
                    if reason := backlog(summary):
                        stopped = f"at {rate:g} events/s: {reason}"
                        break
                await drain(graph)
                ladders[path] = {
                    "steps": steps, "stopped": stopped,
                    "sustained": max((s["rate"] for s in steps if backlog(s) is None), default=None),
                    "warmup": {k: v for k, v in warm_step.items() if k not in ("per_event", "_points")}}
            extra: dict[str, Any] = {"unexpected_messages": len(subscriber.unexpected),
                                     "unexpected_examples": subscriber.unexpected[:5],
                                     "messages": subscriber.messages}
        finally:
            await subscriber.stop()
    text = log.read_text(errors="replace")
    if profile and profile.exists():
        extra["service_profile"] = profile_summary(profile)
    extra["service_log"] = {"retried_transactions": text.count("will be retried"),
                            "failed_rounds": text.count("live evaluation round failed"),
                            "tracebacks": text.count("Traceback")}
    return ladders, extra


def profile_summary(path: Path, top: int = 25) -> list[dict[str, Any]]:
    """The functions the service spent most CPU in over the whole run (warm-ups and ladders), by own
    time, with their cumulative time: from the cProfile statistics the service wrote as it stopped."""
    import pstats

    stats = pstats.Stats(str(path))
    total = sum(entry[2] for entry in stats.stats.values())  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:top]  # type: ignore[attr-defined]
    return [{"function": f"{Path(file).name}:{line} {name}", "calls": calls, "own_s": round(own, 2),
             "own_share": round(own / total, 3) if total else None, "cumulative_s": round(cumulative, 2)}
            for (file, line, name), (_, calls, own, cumulative, _) in rows]


def commit_of(checkout: Path) -> str | None:
    """The commit a checkout is at (with "+changes" if its tree differs), if it is a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=checkout, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=checkout,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+changes" if dirty else "")


async def equality(graph: Graph, segment_id: str) -> dict[str, Any]:
    """After the ladders: the members the live loop kept against those a full evaluation of the rule
    finds now (the same set, or the benchmark failed)."""
    segments = {row["id"]: row for row in await graph.run(Q.SEGMENTS_RULES)}
    compiled = await engine.compile_for(graph, parse_rule(json.loads(segments[segment_id]["rule"])), segment_id)
    full = {row["email"] for row in await engine.all_members(graph, compiled, 1_000_000)}
    kept = {row["email"] for row in await query(
        graph, "MATCH (:Segment {id: $id})<-[:IN_SEGMENT]-(p:Person) RETURN p.email AS email", id=segment_id)}
    return {"members_kept": len(kept), "members_full_evaluation": len(full), "equal": kept == full,
            "only_kept": sorted(kept - full)[:10], "only_full": sorted(full - kept)[:10]}


async def benchmark(options: Options, root: Path, server: LocalNeo4j, work: Path) -> dict[str, Any]:
    graph = Graph(Neo4jConnection(server.uri, "neo4j", SecretStr(PASSWORD), "neo4j"))
    try:
        await graph.migrate()
        print(f"Ingesting {root.relative_to(PROJECT_ROOT)} ...", flush=True)
        ingest = await ingest_all(graph, root)
        counts = await graph_counts(graph)
        sizes = await company_sizes(graph)
        segment_id, candidates = await save_segment(graph, options.seed)
        print(f"Candidates: {len(candidates.visits):,} people for entering visits, "
              f"{len(candidates.opportunities):,} companies for the opportunity profile", flush=True)
        visit_candidates = len(candidates.visits)
        spare_visits = [c["email"] for c in candidates.visits[:500]]  # profiled later, never sent
        phase_visits = candidates.visits[500:520]  # timed in process later, never sent
        pool = Pool(candidates.visits[520:], options.seed)
        spare = candidates.opportunities.pop(0)
        phase_companies = candidates.opportunities[:5]
        lift = lifting(spare, candidates.threshold)
        baseline: dict[str, Any] | None = None
        if options.baseline:
            print(f"Baseline: the service of {options.baseline}", flush=True)
            found, baseline_extra = await ladder(options, server, graph, segment_id, pool, work, options.baseline)
            baseline = {"checkout": str(options.baseline), "commit": commit_of(options.baseline), "ladders": found,
                        **{f"sustained_{path}": f["sustained"] or 0 for path, f in found.items()},
                        "unexpected_messages": baseline_extra["unexpected_messages"],
                        "service_log": baseline_extra["service_log"]}
            print("This checkout:", flush=True)
        ladder_began = time.time()
        ladders, extra = await ladder(options, server, graph, segment_id, pool, work)
        extra["neo4j_log"] = neo4j_log_events(server, ladder_began)
        steps = [s for found in ladders.values() for s in found["steps"]]
        for line in extra["neo4j_log"]:
            step = max((s for s in steps if s["began"] <= line["at"]), key=lambda s: s["began"], default=None)
            line["step"] = step and f"{step['path']} {step['rate']:g}"
            line["seconds_into_step"] = step and round(line["at"] - step["began"], 2)
        print("Comparing the kept members with a full evaluation ...", flush=True)
        equal = await equality(graph, segment_id)
        print(f"  {equal['members_kept']:,} kept, {equal['members_full_evaluation']:,} by a full evaluation: "
              f"{'equal' if equal['equal'] else 'DIFFERENT'}", flush=True)
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
                        "visit_candidates": visit_candidates},
            "settings": {"paths": options.paths, "rates": options.rates, "seconds_per_rate": options.seconds,
                         "clients": CLIENTS, "entering_share": 1 / options.entering_share,
                         "warmup_events": options.warmup, "warmup_rate": options.warmup_rate,
                         "lost_after": LOST_AFTER, "live_poll_seconds": 1, "target_p95": TARGET_P95},
            # The highest rate each path kept up with, 0 when not even the first (benchmarks/goals.py reads these).
            **{f"sustained_{path}": found["sustained"] or 0 for path, found in ladders.items()},
            "ladders": ladders, "equality": equal, "commit": commit_of(PROJECT_ROOT), "baseline": baseline,
            "subscription": extra, "evaluation_profile": profiles, "phases_in_process": timed,
        }
    finally:
        await graph.close()


# ---- reporting --------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:,.0f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


HEADER = (f"{'rate/s':>6} {'events':>6} {'enter':>5} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'lost':>5} {'missed':>6} {'sent/s':>7} {'response p50':>12} {'cpu neo4j/svc/client':>21}")


def row(s: dict[str, Any]) -> str:
    latency, cores = s["latency"], s["cpu_cores"]
    share = "/".join(f"{cores[k]:.2f}" for k in ("neo4j", "service", "client"))
    return (f"{s['rate']:>6g} {s['events']:>6} {s['entering']:>5} {_ms(latency['p50']):>7} {_ms(latency['p95']):>7} "
            f"{_ms(latency['p99']):>7} {_ms(latency['max']):>7} {s['lost']:>5} {s['missed']:>6} "
            f"{_rate(s['send_rate']):>7} {_ms(s['response_seconds']['p50']):>9} ms {share:>21}")


def table(figures: dict[str, Any]) -> str:
    graph = figures["graph"]
    lines = [f"Live-audience latency: {figures['people']:,} people generated ({graph['people']:,} after merging), "
             f"{graph['accounts']:,} accounts, {graph['companies']:,} companies, "
             f"{graph['relationships']:,} relationships",
             f"segment: company closed-won total > {figures['segment']['threshold']:,.0f} and a new-product visit "
             f"within {WITHIN_DAYS} days ({figures['segment']['members_before']:,} members at the start)"]
    for path, found in figures["ladders"].items():
        lines += ["", f"{PATHS[path]} ({CLIENTS} clients, one visit per request)", HEADER, "-" * len(HEADER)]
        lines += [row(s) for s in found["steps"]]
        lines.append(f"stopped: {found['stopped'] or 'the whole ladder ran'}; sustained (p95 <= "
                     f"{TARGET_P95:.0f} s, nothing lost, no backlog): {found['sustained'] or '-'} events/s")
    baseline = figures.get("baseline")
    if baseline:
        lines.append("baseline " + ", ".join(f"{PATHS[path]}: sustained {baseline.get(f'sustained_{path}') or '-'}/s"
                                              for path in figures["ladders"]))
    equal = figures["equality"]
    lines.append(f"members kept live {equal['members_kept']:,}, by a full evaluation "
                 f"{equal['members_full_evaluation']:,}: {'equal' if equal['equal'] else 'DIFFERENT'}")
    return "\n".join(lines)


def trim(figures: dict[str, Any]) -> None:
    """Keep each event's row (kind, sent at, response seconds, latency, returned -> evaluated, fate)
    only for the steps worth a closer look: those with slow stretches or that did not keep up."""
    for ladders in (figures["ladders"], (figures["baseline"] or {}).get("ladders", {})):
        for found in ladders.values():
            for step in found["steps"]:
                if not step["stalls"] and backlog(step) is None:
                    step.pop("per_event", None)


def compact_json(figures: dict[str, Any]) -> str:
    """Indented JSON with every list of plain values (a per-event row, a timeline) on one line."""
    text = json.dumps(figures, indent=2, default=str)
    return re.sub(r"\[\s+([^\[\]{}]*?)\s+\]", lambda m: "[" + re.sub(r"\s*\n\s*", " ", m.group(1)) + "]", text)


def limit_note(figures: dict[str, Any], path: str) -> list[str]:
    """Where the CPU was at the first rate of a ladder that did not keep up, if one did not."""
    failed = [s for s in figures["ladders"][path]["steps"] if backlog(s)]
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


def comparison(figures: dict[str, Any]) -> list[str]:
    """With --baseline: each rate of each path, the baseline's service against this checkout's."""
    baseline = figures.get("baseline")
    if not baseline:
        return []
    lines = [
        "## Before and after",
        "",
        f"The same ladders run first against the service of `{baseline['checkout']}` (commit "
        f"{baseline['commit'] or 'unknown: not a git checkout'}), then against this checkout's (commit "
        f"{figures['commit'] or '?'}), in one run "
        "on the same graph, back to back (the second on a graph a little larger by the first's visits).",
        "",
        "| path | events/s | before: p95 ms / sent/s / lost | after: p95 ms / sent/s / lost |",
        "| --- | ---: | ---: | ---: |",
    ]

    def cell(step: dict[str, Any] | None) -> str:
        if step is None:
            return "not run"
        mark = "" if backlog(step) is None else " ✗"
        return f"{_ms(step['latency']['p95'])} / {_rate(step['send_rate'])} / {step['lost']}{mark}"

    for path in figures["ladders"]:
        before = {s["rate"]: s for s in baseline["ladders"].get(path, {}).get("steps", [])}
        after = {s["rate"]: s for s in figures["ladders"][path]["steps"]}
        for rate in sorted(set(before) | set(after)):
            lines.append(f"| {PATHS[path]} | {rate:g} | {cell(before.get(rate))} | {cell(after.get(rate))} |")
        lines.append(f"| {PATHS[path]} | **sustained** | **{baseline.get(f'sustained_{path}') or '-'}** | "
                     f"**{figures[f'sustained_{path}'] or '-'}** |")
    return lines + ["", "✗: the step did not keep up (the ladder stopped there).", ""]


def _steps(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The warm-ups and the steps of every ladder, labelled by path and rate."""
    found: list[dict[str, Any]] = []
    for path, ladder_ in figures["ladders"].items():
        found.append(ladder_["warmup"] | {"label": f"{PATHS[path]}, warm-up"})
        found += [s | {"label": f"{PATHS[path]}, {s['rate']:g}/s"} for s in ladder_["steps"]]
    return found


def markdown(figures: dict[str, Any], png: str, command: str) -> str:
    graph, segment, ingest = figures["graph"], figures["segment"], figures["ingest"]
    machine, settings, equal = figures["machine"], figures["settings"], figures["equality"]
    lines = [
        "# Live audiences: throughput and latency under a stream of events",
        "",
        f"`{command}` ([benchmarks/realtime.py](../../benchmarks/realtime.py)); figures in "
        f"[{Path(png).with_suffix('.json').name}]({Path(png).with_suffix('.json').name}).",
        "",
        "**The target** (issue 13): visit events through `POST /events` at 1,000/s or more, and through the GraphQL "
        f"mutation `recordWebVisits` at 500/s or more ({CLIENTS} clients, one event per request), with a p95 of at "
        "most one second from the response to the subscriber hearing the person enter and nothing lost, for the "
        f"cross-account rule (*company closed-won total above a threshold and a visit to the new product page in the "
        f"last {WITHIN_DAYS} days*) on this {machine['cpus']}-core machine with 100k people.",
        "",
        "## Result",
        "",
        "| path | sustained events/s (p95 <= 1 s, nothing lost, no backlog) | stopped |",
        "| --- | ---: | --- |",
    ]
    for path, found in figures["ladders"].items():
        stopped = found["stopped"] or "the whole ladder ran"
        lines.append(f"| {PATHS[path]} | **{found['sustained'] or '-'}** | {stopped} |")
    lines += [
        "",
        f"Members kept live at the end: {equal['members_kept']:,}; a full evaluation of the rule then: "
        f"{equal['members_full_evaluation']:,} — **{'the same people' if equal['equal'] else 'NOT the same people'}**. "
        f"{figures['subscription']['unexpected_messages']} unexpected subscription messages (a LEFT, a second "
        "ENTERED, a person no event sent).",
        "",
        "One run on a shared machine: other work on the same 2 cores shows in the figures, and near the limit a "
        "one-off stall of a second or two in a step is enough to push its p95 over the target.",
        "",
        *(["**This run's service ran under cProfile** (`--profile-service`): slower than without it; the profile "
           "is at the end.", ""] if figures["subscription"].get("service_profile") else []),
    ]
    lines += comparison(figures)
    for path, found in figures["ladders"].items():
        lines += [
            f"### {PATHS[path]}",
            "",
            "| events/s | events | entering | p50 ms | p95 ms | p99 ms | max ms | lost | missed | failed | sent/s "
            "| answered/s | response p50 / p95 ms | returned → evaluated p50 / p95 | evaluated → delivered p50 / p95 "
            "| CPU cores: Neo4j / service / client |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
            "| ---: |",
        ]
        for s in found["steps"]:
            latency, cores = s["latency"], s["cpu_cores"]
            lines.append(
                f"| {s['rate']:g} | {s['events']} | {s['entering']} | {_ms(latency['p50'])} | {_ms(latency['p95'])} | "
                f"{_ms(latency['p99'])} | {_ms(latency['max'])} | {s['lost']} | {s['missed']} | {s['errors']} | "
                f"{_rate(s['send_rate'])} | {_rate(s['answered_rate'])} | "
                f"{_ms(s['response_seconds']['p50'])} / {_ms(s['response_seconds']['p95'])} | "
                f"{_ms(s['returned_to_evaluated']['p50'])} / {_ms(s['returned_to_evaluated']['p95'])} | "
                f"{_ms(s['evaluated_to_delivered']['p50'])} / {_ms(s['evaluated_to_delivered']['p95'])} | "
                f"{cores['neo4j']:.2f} / {cores['service']:.2f} / {cores['client']:.2f} |")
        lines += ["", *limit_note(figures, path)]
    lines += [
        f"![latency percentiles and throughput against the event rate]({Path(png).name})",
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
        f"{machine['cpus']} cores shared by Neo4j, the service and the load generator (and, on this run's machine, "
        "by other work).",
        f"- **Segment**: `audience_rule({segment['threshold']:,.0f}, NEW_PRODUCT_PAGE, {WITHIN_DAYS})`, the threshold "
        f"being the median company's closed-won total ({segment['qualifying_companies']:,} of "
        f"{segment['companies']:,} companies above it; the rule reads the total each company holds), saved with "
        f"`store.create` and evaluated with `engine.evaluate`: {segment['members_before']:,} members at the start.",
        "- **Service**: `python -m service.cli serve` in its own process (`LIVE_POLL_SECONDS=1`); one "
        "graphql-transport-ws subscriber to `audienceChanges(segmentId)`.",
        f"- **Events**: one visit to the new product page per request, on a fixed schedule (event *n* at *n* / rate "
        f"seconds) through {CLIENTS} clients, each a keep-alive HTTP/1.1 connection with one request in flight: when "
        "all 20 wait for the service, the next event waits too, and the send rate falls behind. Per path, a warm-up "
        f"of {settings['warmup_events']} events at {settings['warmup_rate']:g}/s (not counted: the JVM compiles the "
        f"code paths meanwhile), then each rate held for {settings['seconds_per_rate']:g} s. "
        f"`POST /events` sends `{{\"source\": …, \"events\": [one webVisit]}}`; the GraphQL path a "
        "`recordWebVisits` of one visit.",
        f"- **Who visits**: one event in {round(1 / settings['entering_share'])} is *entering*: a person of a "
        f"qualifying company who is not in the segment (of {segment['visit_candidates']:,} such people, each used "
        "once), who must enter, heard once. The others are *repeats*: a visit by a person heard entering earlier in "
        "the run (drawn at random), which must be stored and must change nothing (no message). Every visit is "
        "marked and re-evaluated by the live loop all the same.",
        "- **Latency** (entering events): arrival of the ENTERED message minus the moment the HTTP response arrived. "
        "*Returned → evaluated* uses the change's `at` (the evaluating transaction's clock, same machine), "
        "*evaluated → delivered* is the rest (commit, publish, WebSocket).",
        f"- **Lost**: an entering event not heard within {LOST_AFTER:g} s of its response whose person is still "
        "marked or a member by then, or any answered event whose visit is not in the graph after the step; "
        "**missed**: an entering event whose person is neither (the change never marked them); **failed**: a "
        "response other than 200 (or GraphQL errors).",
        f"- **Stop**: a ladder stops climbing at the first rate with p95 over {TARGET_P95:g} s, an event lost, missed "
        "or failed, latency rising within the step (last third's median over twice the first third's) or the "
        "clients' send rate under 90 % of the rate. Between steps the benchmark waits for the live loop to claim "
        "every marked person.",
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
        "| step | Neo4j JIT | Neo4j GC | Neo4j Bolt (queries) | Neo4j other | service (Python) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in _steps(figures):
        per = s["neo4j_cpu_ms_per_event"]
        lines.append(f"| {s['label']} | {per['jit']:.1f} | {per['gc']:.1f} | {per['bolt']:.1f} | "
                     f"{per['other']:.1f} | {s['service_cpu_ms_per_event']:.1f} |")
    lines += [
        "",
        "One event at a time, written in process as the mutation writes it (`ingest_tables`) and followed by "
        "one live round as `Evaluator.evaluate_pending` runs it (medians, ms):",
        "",
        "| event | write (all) | of which upsert | of which mark | round (all) | claim (and rules) | evaluate "
        "| commit | people claimed |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, t in figures["phases_in_process"].items():
        upsert = t.get(f"mutation:{Q.WEB_VISITS_UPSERT}", t.get(f"mutation:{Q.OPPORTUNITIES_UPSERT}", 0))
        lines.append(f"| {kind} | {t['mutation'] * 1000:.1f} | {upsert * 1000:.1f} | "
                     f"{t.get(f'mutation:{Q.PEOPLE_MARK_FOR_EVALUATION}', 0) * 1000:.1f} | "
                     f"{t['round:round'] * 1000:.1f} | "
                     f"{t['round:claim'] * 1000:.1f} | "
                     f"{t['round:evaluate'] * 1000:.1f} | {t['round:commit'] * 1000:.1f} | {t['round:claimed']:g} |")
    lines += ["", "Slow stretches (runs of entering events whose response or latency took over 250 ms; the first "
              "five of each step), with the Neo4j transactions seen open for 200 ms or more during the step:", ""]
    quiet = []
    for s in _steps(figures):
        if not s["stalls"] and not s["long_transactions"].get("count"):
            quiet.append(s["label"])
            continue
        stretches = "; ".join(f"{x['start']:.1f}-{x['end']:.1f} s: {x['events']} events, worst latency "
                              f"{x['worst_latency'] * 1000:,.0f} ms, "
                              f"worst response {x['worst_mutation'] * 1000:,.0f} ms"
                              for x in s["stalls"][:5]) or "none"
        watched = s["long_transactions"]
        named = [t for t in watched.get("longest", []) if t["query"] != IDLE][:4]
        long = (f"{watched.get('count', 0)} ({watched.get('idle', 0)} of them idle, waiting for the service)"
                + "".join(f"; {t['query'].removeprefix('// name: ')} from {t.get('at', 0):.1f} s for "
                          f"{t.get('elapsed', 0):,} ms" for t in named))
        lines.append(f"- {s['label']}: {stretches}. Transactions open 200 ms or more: {long}.")
    if quiet:
        lines.append(f"- {'; '.join(quiet)}: none.")
    sub = figures["subscription"]
    lines += [
        "",
        f"Service log: {sub['service_log']['retried_transactions']} retried transactions, "
        f"{sub['service_log']['failed_rounds']} failed live rounds.",
        "",
    ]
    if sub.get("service_profile"):
        lines += ["The service under cProfile (`--profile-service`; the profiler slows it, so the ladder above is not "
                  "comparable with a run without it): the functions with the most own time over the whole run, "
                  "warm-ups included.", "",
                  "| function | calls | own s | share of own time | cumulative s |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        lines += [f"| `{f['function']}` | {f['calls']:,} | {f['own_s']:.2f} | {(f['own_share'] or 0) * 100:.1f} % | "
                  f"{f['cumulative_s']:.2f} |" for f in sub["service_profile"]]
        lines.append("")
    return "\n".join(lines)


def plot(figures: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    figure, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    left, right = axes
    rates: set[float] = set()
    for name, found in figures["ladders"].items():
        steps = found["steps"]
        if not steps:
            continue
        x = [s["rate"] for s in steps]
        rates.update(x)
        for percentile_, style in (("p50", "o-"), ("p95", "s--")):
            left.plot(x, [s["latency"][percentile_] for s in steps], style, label=f"{PATHS[name]} {percentile_}")
        right.plot(x, [s["answered_rate"] or 0 for s in steps], "o-", label=f"{PATHS[name]}: answered")
    left.axhline(TARGET_P95, color="red", linestyle=":", label="target: p95 <= 1 s")
    right.plot(sorted(rates), sorted(rates), color="grey", linestyle=":", label="the rate asked")
    for axis in axes:
        axis.set_xscale("log")
        axis.set_xticks(sorted(rates), [f"{r:g}" for r in sorted(rates)])
        axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        axis.set_xlabel("events per second asked (fixed schedule, 20 clients)")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize="small")
    left.set_yscale("log")
    left.set_ylabel("response → subscriber heard ENTERED (s)")
    left.set_title("Latency of entering events by rate")
    right.set_yscale("log")
    right.set_ylabel("requests answered per second")
    right.set_title("Throughput")
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
    parser.add_argument("--paths", type=lambda text: text.split(","), default=list(PATHS),
                        help=f"which paths to measure, in order (comma-separated, of: {', '.join(PATHS)})")
    parser.add_argument("--rates", type=lambda text: [float(r) for r in text.split(",")],
                        default=[100, 250, 500, 1000, 1500],
                        help="the ladder of fixed rates, events per second (comma-separated)")
    parser.add_argument("--seconds", type=float, default=10, help="how long each rate is held")
    parser.add_argument("--warmup", type=int, default=200,
                        help="events sent before each ladder, not counted: "
                             "the JVM compiles the new code paths meanwhile")
    parser.add_argument("--warmup-rate", type=float, default=40)
    parser.add_argument("--entering-share", type=int, default=4,
                        help="one event in this many brings a fresh person in; the others are repeat visits")
    parser.add_argument("--quick", action="store_true",
                        help="a short check: rates 100,500,1000 held 4 s each after a warm-up of 80 events "
                             "(unless given); the files are named realtime-quick*")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout (e.g. `git worktree add /tmp/base main`) whose service runs the same "
                             "ladders first, on the same graph, for a before/after in the same conditions")
    parser.add_argument("--profile-service", action="store_true",
                        help="run this checkout's service under cProfile (slower) and list where its CPU went")
    parser.add_argument("--keep-log", action="store_true", help="keep the service's log (its path is printed)")
    args = parser.parse_args()
    unknown = [path for path in args.paths if path not in PATHS]
    if unknown:
        parser.error(f"--paths: unknown {', '.join(unknown)} (of: {', '.join(PATHS)})")
    if args.quick:
        given = " ".join(sys.argv[1:])
        args.rates = args.rates if "--rates" in given else [100, 500, 1000]
        args.seconds = args.seconds if "--seconds" in given else 4
        args.warmup = args.warmup if "--warmup " in given or "--warmup=" in given else 80
    return args


def main() -> None:
    args = arguments()
    options = Options(args.people, args.seed, args.paths, args.rates, args.seconds, args.warmup, args.warmup_rate,
                      args.entering_share, args.baseline.resolve() if args.baseline else None, args.profile_service)
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
    stem += "-quick" if args.quick else ""
    command = "python -m benchmarks.realtime " + " ".join(sys.argv[1:])
    png = RESULTS / f"{stem}.png"
    for ladders in (figures["ladders"], (figures["baseline"] or {}).get("ladders", {})):
        for found in ladders.values():
            for step in found["steps"]:
                step.pop("_points", None)
    trim(figures)
    (RESULTS / f"{stem}.json").write_text(compact_json(figures) + "\n")
    (RESULTS / f"{stem}.md").write_text(markdown(figures, str(png), command.strip()))
    plot(figures, png)
    written = (str((RESULTS / f"{stem}{ext}").relative_to(PROJECT_ROOT)) for ext in (".json", ".md", ".png"))
    print(f"Written: {', '.join(written)}")
    if not all(s["lost"] == 0 and s["missed"] == 0 for found in figures["ladders"].values() for s in found["steps"]) \
            or not figures["equality"]["equal"] or figures["subscription"]["unexpected_messages"]:
        print("Something was lost, missed or unexpected: see the figures.", file=sys.stderr)


if __name__ == "__main__":
    main()
