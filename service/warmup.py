"""No cold first request: before /readyz says ready, every named query is planned and every saved
segment's compiled queries are warmed (docs/reliability.md, "Warm-up").

Neo4j caches a plan by the query's text and its parameters' types, and for strings and lists by a
size bucket too (0, 1, up to 10, up to 100, ...; `internal.cypher.use_parameter_size`): an EXPLAIN
with no parameters, or with an integer where the service sends a float, plans an entry the real
request never uses. So each parameter name has one typed example here, of the type and size bucket
of the usual call (lists of one element: a single event, one DataLoader key). Each named query is
then run once as a request would run it (Graph.rehearse: in a transaction always rolled back, so a
write keeps nothing, and stopped after REHEARSAL_SECONDS); the examples match no record, so most
rehearsals take milliseconds. An EXPLAIN alone is not enough on Neo4j 5: measured, the first real
run after it still spent about half the planning time. A test checks every parameter of every query
has its example and every query is warmed with them.

Warming is bounded (`WARMUP_SECONDS`); a query that fails to plan is logged and listed, never fatal.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from service.database import Graph, QueryTimeout
from service.queries import Q, query_file
from service.segments.warm import REHEARSAL_SECONDS, WARM_EMAIL, warm_segment

log = logging.getLogger("accountgraph.warmup")

WARM_ID = "00000000-0000-4000-8000-000000000000"  # the size of a segment id (a UUID); API key ids share its bucket
WARM_TIME = datetime(2000, 1, 1, tzinfo=UTC)
WARM_KEY = {"source": "Marketo 1", "sourceKey": "warm-up-0001"}

# One typed example per parameter name, in the size bucket of the usual call.
EXAMPLES: dict[str, Any] = {
    "accounts": [WARM_KEY],
    "after": None,  # the first page
    "at": WARM_TIME,
    "batches": [],
    "bodies": [],
    "by": "warm-up-key",  # who accepted or rejected a link suggestion: an API key's id, or the CLI's user
    "changes": [{"segmentId": WARM_ID, "emails": [WARM_EMAIL], "position": 1}],
    "closeDays": [],
    "colleagues": False,
    "companyId": "Marketo 1/warm-up-0001",  # a company id: its smallest account's 'source/sourceKey'
    "companyIds": ["Marketo 1/warm-up-0001"],
    "companyList": None,  # a company list's text, on an activation to LINKEDIN_COMPANIES only
    "days": 30,
    "delayMilliseconds": 1000,
    "delivered": 0,
    "deliveryRetentionDays": 0,
    "description": "",
    "destination": "Warm-up destination",
    "email": WARM_EMAIL,
    "emails": [WARM_EMAIL],
    "error": "HTTP 503",
    "evaluationRetentionDays": 0,  # retention off: nothing is removed, even rolled back
    "entered": [WARM_EMAIL],
    "expiresAt": None,  # a key that works until revoked (the usual one)
    "evidence": "[]",  # a link suggestion's evidence as JSON text, kept on the link accepted
    "explanations": [{"email": WARM_EMAIL, "explanation": "[]"}],
    "files": [],
    "final": False,
    "first": 50,
    "groupDays": [30],
    "hash": "0" * 64,  # a SHA-256 in hex
    "holder": "0" * 32,  # a lease holder's id
    "id": WARM_ID,
    "idHashes": ["0" * 64],
    "ids": [WARM_ID],
    "instance": None,
    "keys": [WARM_KEY],
    "kind": "WEBHOOK",
    "left": [],
    "linkId": "steward/" + WARM_ID,
    "limit": 500,
    "members": [{"email": WARM_EMAIL, "leadId": "warm-up-0001"}],
    "mark": True,
    "maxAttempts": 10,
    "milliseconds": 120_000,
    "minScore": 0.5,
    "mode": "DELTA",
    "name": "Warm-up segment",
    "names": ["Warm-up segment"],
    "now": WARM_TIME,
    "pairs": [{"a": WARM_KEY, "b": WARM_KEY}],
    "reason": "",
    "requests": [{"index": 0, "id": WARM_ID, "status": "WON", "first": 11, "after": None}],
    "roles": ["decision maker"],
    "rows": [{"source": "Marketo 1", "sourceKey": "warm-up-0001", "email": WARM_EMAIL}],
    "rule": '{"person": {"field": "EMAIL", "op": "EQ", "value": "warm.up@example.invalid"}}',
    "score": 0.5,
    "scopes": ["read"],
    "search": None,  # a member page's search text: none, the usual page
    "secret": "warm-up-secret-0000",
    "seenAt": WARM_TIME,
    "segmentId": WARM_ID,
    "sent": 0,
    "since": WARM_TIME,
    "source": "Marketo 1",
    "unknownToDestination": 0,
    "url": "https://warm-up.example.invalid/hook",
    "status": "PENDING",
    "subject": "PERSON",
    "uses": [],
    "visitDays": [30],
    "visitRetentionDays": 0,
    "withoutConsent": 0,
}
PARAMETER = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
# Run once, at start-up, before the warm-up: the schema and the migration that writes in transactions of its own.
NOT_WARMED = {Q.SCHEMA, Q.RECORDS_KNOWN_IN}
CONCURRENCY = 4


def parameter_names(query: Q) -> set[str]:
    """The parameters a named query's text uses (comments aside)."""
    code = "\n".join(line for line in query_file(query).text.splitlines() if not line.lstrip().startswith("//"))
    return set(PARAMETER.findall(code))


def parameters_of(query: Q) -> dict[str, Any]:
    """The example parameters of a named query (a test checks none is missing)."""
    return {name: EXAMPLES[name] for name in sorted(parameter_names(query)) if name in EXAMPLES}


@dataclass
class WarmReport:
    """What one warm-up did: the queries and segments warmed, those that failed (name: reason)."""

    queries: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    complete: bool = False  # False when the time bound stopped it

    def summary(self) -> dict[str, Any]:
        return {"queries": len(self.queries), "segments": len(self.segments), "failed": sorted(self.failed),
                "seconds": round(self.seconds, 3), "complete": self.complete}


async def warm(graph: Graph, seconds: float) -> WarmReport:
    """Plan every named query, then warm every saved segment; stop after `seconds` at most."""
    report = WarmReport()
    started = time.monotonic()
    try:
        async with asyncio.timeout(seconds):
            await _warm(graph, report)
        report.complete = True
    except TimeoutError:
        log.warning("warm-up stopped after %.0f s (WARMUP_SECONDS): %d queries and %d segments warmed",
                    seconds, len(report.queries), len(report.segments))
    report.seconds = time.monotonic() - started
    if report.failed:
        log.warning("warm-up: %d failed: %s", len(report.failed),
                    "; ".join(f"{name}: {reason}" for name, reason in sorted(report.failed.items())))
    log.info("warm-up: %d queries and %d segments in %.2f s", len(report.queries), len(report.segments),
             report.seconds)
    return report


async def _warm(graph: Graph, report: WarmReport) -> None:
    """The named queries CONCURRENCY at a time (Neo4j plans each on a thread of its own), then the segments."""
    slots = asyncio.Semaphore(CONCURRENCY)

    async def rehearse(query: Q) -> None:
        async with slots:
            try:
                await graph.rehearse(query, REHEARSAL_SECONDS, **parameters_of(query))
            except QueryTimeout:
                pass  # stopped while running: its plan was made
            except Exception as error:  # one query failing must not stop the others, nor the start-up
                report.failed[query.value] = _reason(error)
                return
            report.queries.append(query.value)

    await asyncio.gather(*(rehearse(query) for query in Q if query not in NOT_WARMED))
    try:
        segments = await graph.run(Q.SEGMENTS_RULES)
    except Exception as error:
        report.failed[Q.SEGMENTS_RULES.value] = _reason(error)
        return
    for segment in segments:
        await warm_one(graph, segment, report)


async def warm_one(graph: Graph, segment: dict[str, Any], report: WarmReport | None = None) -> bool:
    """Warm one saved segment (at start-up, or once it is saved); log a failure, never raise it."""
    segment_id = segment["id"]
    try:
        await warm_segment(graph, segment)
    except Exception as error:
        reason = _reason(error)
        log.warning("warm-up of segment %s failed: %s", segment_id, reason)
        if report is not None:
            report.failed[f"segment {segment_id}"] = reason
        return False
    if report is not None:
        report.segments.append(segment_id)
    return True


def _reason(error: BaseException) -> str:
    code = getattr(error, "code", None)
    return f"{type(error).__name__}: {code}" if code else type(error).__name__
