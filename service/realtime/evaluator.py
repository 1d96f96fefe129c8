"""Incremental evaluation: the people marked by a change, against every saved segment, in one transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from neo4j import AsyncManagedTransaction

from service.database import Graph
from service.queries import cypher
from service.realtime.broker import AudienceChange
from service.segments.compiler import Compiled
from service.segments.engine import compile_for
from service.segments.rules import OpportunityCondition, VisitCondition, leaves, parse_rule

BATCH = 500


class Evaluator:
    """Keeps the compiled rules of the saved segments, recompiling one only when it changes."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._compiled: dict[tuple[str, str], Compiled] = {}

    async def _segments(self) -> list[tuple[dict[str, Any], Compiled]]:
        segments = await self.graph.read("segments_rules")
        compiled = []
        for segment in segments:
            key = (segment["id"], segment["rule"])
            if key not in self._compiled:
                self._compiled[key] = await compile_for(self.graph, parse_rule(json.loads(segment["rule"])),
                                                        segment["id"])
            compiled.append((segment, self._compiled[key]))
        live = {(s["id"], s["rule"]) for s in segments}
        self._compiled = {k: v for k, v in self._compiled.items() if k in live}
        return compiled

    async def evaluate_pending(self, limit: int = BATCH) -> tuple[int, list[AudienceChange]]:
        """Claim up to `limit` marked people and re-evaluate them against every segment; return how
        many were claimed and the changes.

        Claiming (removing the mark) and recording the changes commit together: a crash in
        between rolls both back, so the marks stay and the work is done on the next run.
        """
        segments = await self._segments()

        async def work(tx: AsyncManagedTransaction) -> tuple[int, list[AudienceChange]]:
            claimed = await (await tx.run(cypher("claim_pending_people"), {"limit": limit})).data()
            emails = [row["email"] for row in claimed]
            changes: list[AudienceChange] = []
            if not emails:
                return 0, changes
            for segment, compiled in segments:
                result = await tx.run(compiled.render(cypher("segment_evaluate_people")),
                                      {**compiled.parameters, "segmentId": segment["id"], "emails": emails})
                for row in await result.data():
                    at = row["at"].to_native()
                    changes += [AudienceChange(segment["id"], segment["name"], email, "ENTERED", at)
                                for email in row["entered"]]
                    changes += [AudienceChange(segment["id"], segment["name"], email, "LEFT", at)
                                for email in row["left"]]
            return len(emails), changes

        return await self.graph.write_work(work)

    async def mark_expired(self) -> None:
        """Mark the people whose visits or won deals left a saved rule's time window since the last sweep."""
        segments = await self.graph.read("segments_rules")
        conditions = [leaf for s in segments for leaf in leaves(parse_rule(json.loads(s["rule"])))]
        visit_days = sorted({c.within_days for c in conditions if isinstance(c, VisitCondition) and c.within_days})
        close_days = sorted({c.closed_within_days for c in conditions
                             if isinstance(c, OpportunityCondition) and c.closed_within_days})
        now = datetime.now(UTC)
        last = await self.graph.read("last_sweep")
        since = last[0]["at"].to_native() if last else now
        await self.graph.write("mark_expired_windows", visitDays=visit_days, closeDays=close_days, since=since, now=now)
