"""Warming a saved segment's compiled queries, so its first count or evaluation does not plan them.

Neo4j caches a plan by the query's text and its parameters' types (and, for strings and lists, a
size bucket: 0, 1, up to 10, up to 100 ...). A segment's compiled text and its rule's parameters are
the ones the API and the live loop will send, so warming uses them as they are, and runs each
template once as a request would (service.database.Graph.rehearse: rolled back, stopped after
`seconds`): an EXPLAIN alone leaves Neo4j 5 part of the work for the first real run. The count and
the first page of members also bring the pages they read into Neo4j's page cache.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from service.database import Graph, QueryTimeout
from service.queries import Q, Template
from service.segments.compiler import AUDIENCE_TWINS
from service.segments.engine import compile_saved
from service.segments.rules import Subject

WARM_EMAIL = "warm.up@example.invalid"  # the size bucket (11 to 100 characters) of real addresses
REHEARSAL_SECONDS = 15.0  # each rehearsal at most (planning included: a plan stopped halfway is not cached)
# Typed like the real calls: a page size and no cursor (the first page), one person (a single event).
EXTRA: dict[Template, dict[str, Any]] = {
    Template.SEGMENT_COUNT: {},
    Template.SEGMENT_MEMBERS: {"first": 51, "after": None},  # engine.members asks for one more than `first`
    Template.SEGMENT_COMPANIES: {"first": 50},
    Template.SEGMENT_EVALUATE: {},
    Template.SEGMENT_EVALUATE_PEOPLE: {"emails": [WARM_EMAIL]},
    Template.SEGMENT_EXPLAIN: {"emails": [WARM_EMAIL]},
}
# An account audience's twins of the templates that take people take companies.
COMPANY_EXTRA: dict[Template, dict[str, Any]] = {
    Template.SEGMENT_EVALUATE_PEOPLE: {"companyIds": [WARM_EMAIL]},
    Template.SEGMENT_EXPLAIN: {"companyIds": [WARM_EMAIL]},
}
# Run after a write in their transaction (the live loop's claim, an evaluation): planned apart.
AFTER_A_WRITE = {Template.SEGMENT_EVALUATE_PEOPLE, Template.SEGMENT_EXPLAIN}
OWN_ID = {Template.SEGMENT_EVALUATE, Template.SEGMENT_EVALUATE_PEOPLE}  # these take the segment's id
# The live loop evaluates some people after claiming them in the same transaction: a write, after
# which Neo4j looks its plans up apart. A write of a person nobody has comes first (rolled back too).
A_WRITE = (Q.PEOPLE_UPSERT, {"source": "Warm-up", "seenAt": datetime(2000, 1, 1, tzinfo=UTC),
                             "rows": [{"sourceKey": "warm-up-0001", "email": WARM_EMAIL}]})


async def warm_segment(graph: Graph, segment: dict[str, Any], seconds: float = REHEARSAL_SECONDS) -> list[str]:
    """Rehearse every compiled query of one saved segment (id, rule, subject); return the templates
    warmed. A rehearsal stopped by its time bound counts (its plan was made); other errors are the
    caller's to log."""
    compiled = await compile_saved(graph, segment)
    warmed = []
    for template, extra in EXTRA.items():
        if compiled.subject == Subject.COMPANY:
            if template not in AUDIENCE_TWINS:
                continue
            extra = COMPANY_EXTRA.get(template, extra)
        own = {"segmentId": segment["id"]} if template in OWN_ID else {}
        after = A_WRITE if template in AFTER_A_WRITE else None
        try:
            await graph.rehearse(compiled.render(template), seconds, after, **compiled.parameters, **extra, **own)
        except QueryTimeout:
            pass
        warmed.append(template.value)
    return warmed
