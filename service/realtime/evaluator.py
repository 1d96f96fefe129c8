"""Incremental evaluation: the people marked by a change against every saved segment, and their companies
against every account audience, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from service.database import Graph, Transaction
from service.queries import Q, Rendered, Template
from service.realtime.broker import AudienceChange, changes_of
from service.segments.compiler import Compiled
from service.segments.engine import compile_saved, explain_entries, saved_rule
from service.segments.rules import BuyingGroupCondition, OpportunityCondition, Subject, VisitCondition, leaves

BATCH = 500  # people claimed by a round when nothing is waiting behind them
MAX_BATCH = 4_000  # the most a round claims when a backlog builds (see LiveAudiences.step)


@dataclass(frozen=True)
class Prepared:
    """A saved segment's rule, compiled and rendered into the incremental evaluation template once."""

    id: str
    name: str
    compiled: Compiled
    rendered: Rendered
    explain: Rendered  # the evidence of the people who entered, kept with their entry


class Evaluator:
    """Keeps the compiled rules of the saved segments, recompiling one only when it changes."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._prepared: dict[tuple[str, str, str], Prepared] = {}

    async def _prepare(self, segments: list[dict[str, Any]]) -> list[Prepared]:
        """The segments (id, name, rule, subject) compiled, from the cache unless a rule (or name) is new."""
        prepared = []
        for segment in segments:
            key = (segment["id"], segment["rule"], segment.get("subject") or Subject.PERSON)
            known = self._prepared.get(key)
            if known is None or known.name != segment["name"]:
                compiled = known.compiled if known else await compile_saved(self.graph, segment)
                known = self._prepared[key] = Prepared(segment["id"], segment["name"], compiled,
                                                       compiled.render(Template.SEGMENT_EVALUATE_PEOPLE),
                                                       compiled.render(Template.SEGMENT_EXPLAIN))
            prepared.append(known)
        live = {(s["id"], s["rule"], s.get("subject") or Subject.PERSON) for s in segments}
        self._prepared = {k: v for k, v in self._prepared.items() if k in live}
        return prepared

    async def evaluate_pending(self, limit: int = BATCH) -> tuple[int, list[AudienceChange]]:
        """Claim up to `limit` marked people and re-evaluate them against every segment, and their
        companies against every account audience; return how many people were claimed and the changes.

        One transaction: the claim (removing the marks), which also reads the saved segments'
        rules; the companies of the people when an account audience is saved (and their colleagues,
        when a rule reads colleagues: every change that can move a person marks them or a colleague);
        one evaluation query per segment, and two more for a segment someone entered (their
        explanations, kept with the entries); then, when a membership changed, the webhook
        deliveries of the changes are queued. Claiming, recording the changes with their
        explanations and queueing their deliveries commit together: a crash in between rolls all
        back, so the marks stay and the work is done on the next run.
        """

        async def work(tx: Transaction) -> tuple[int, list[AudienceChange]]:
            claim = (await tx.run(Q.PEOPLE_CLAIM_PENDING, limit=limit))[0]
            emails: list[str] = claim["emails"]
            changes: list[AudienceChange] = []
            if not emails and not claim["companyIds"]:
                return 0, changes
            segments = await self._prepare(claim["segments"])
            on_companies = any(s.compiled.subject == Subject.COMPANY for s in segments)
            on_colleagues = any(s.compiled.reads_colleagues for s in segments)
            around = ((await tx.run(Q.COMPANIES_OF_PEOPLE, emails=emails, colleagues=on_colleagues))[0]
                      if on_companies or on_colleagues else {"companyIds": [], "colleagues": []})
            with_colleagues = sorted(set(emails) | set(around["colleagues"]))
            company_ids = sorted(set(claim["companyIds"]) | set(around["companyIds"]))
            for segment in segments:
                companies = segment.compiled.subject == Subject.COMPANY
                if companies:
                    whom: dict[str, list[str]] = {"companyIds": company_ids}
                else:
                    whom = {"emails": with_colleagues if segment.compiled.reads_colleagues else emails}
                rows = await tx.run_template(segment.rendered, **segment.compiled.parameters,
                                             segmentId=segment.id, **whom)
                for row in rows:
                    changes += changes_of(segment.id, segment.name, row["position"], row["at"].to_native(),
                                          row["entered"], row["left"], companies)
                    await explain_entries(tx, segment.compiled, row["id"], row["entered"], segment.explain)
            if changes:  # their webhook deliveries are on record with them (service.realtime.outbox)
                moved = sorted({c.company_id for c in changes if c.company_id is not None})
                people = {row["companyId"]: row["emails"]
                          for row in (await tx.run(Q.PEOPLE_OF_COMPANIES, companyIds=moved) if moved else [])}
                await tx.run(Q.DELIVERIES_ENQUEUE, changes=outbox_changes(changes, people))
            return len(emails) + len(claim["companyIds"]), changes

        return await self.graph.write_work(work)

    async def mark_expired(self) -> None:
        """Mark the people whose visits or won deals left a saved rule's time window since the last
        sweep, and the people of companies whose buying group had an engaged member age out of one."""
        segments = await self.graph.run(Q.SEGMENTS_RULES)
        conditions = [leaf for s in segments for leaf in leaves(saved_rule(s))]
        visit_days = sorted({c.within_days for c in conditions if isinstance(c, VisitCondition) and c.within_days})
        close_days = sorted({c.closed_within_days for c in conditions
                             if isinstance(c, OpportunityCondition) and c.closed_within_days})
        group_days = sorted({c.within_days for c in conditions
                             if isinstance(c, BuyingGroupCondition) and c.min_engaged})
        now = datetime.now(UTC)
        last = await self.graph.run(Q.SWEEP_LAST)
        since = last[0]["at"].to_native() if last else now
        await self.graph.run(Q.PEOPLE_MARK_EXPIRED, visitDays=visit_days, closeDays=close_days, groupDays=group_days,
                             since=since, now=now)


def outbox_changes(changes: list[AudienceChange], people_of: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Per segment: the people whose membership changed (of an account audience: the people of the
    companies that entered or left, `people_of` a company id), and the last feed position of the changes."""
    people: dict[str, dict[str, None]] = {}  # segment id -> emails, in order, once each
    positions: dict[str, int] = {}
    for change in changes:
        concerned = [change.email] if change.email else people_of.get(change.company_id or "", [])
        for email in concerned:
            people.setdefault(change.segment_id, {})[email] = None
        positions[change.segment_id] = max(positions.get(change.segment_id, 0), change.position)
    return [{"segmentId": segment_id, "emails": list(people[segment_id]), "position": positions[segment_id]}
            for segment_id in people]
