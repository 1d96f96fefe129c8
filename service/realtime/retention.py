"""Retention: evaluations (the segments' history, hence the change feed), web visits and delivered
webhook deliveries older than their settings are removed by a job one process runs at a time, the
holder of the `retention` lease."""

from __future__ import annotations

import asyncio
import logging
import time

from service.database import DatabaseUnavailable, Graph
from service.limits import Retention
from service.queries import Q
from service.realtime.lease import Lease

BATCH = 10_000  # records removed per transaction
log = logging.getLogger("accountgraph.retention")


class RetentionJob:
    def __init__(self, graph: Graph, retention: Retention) -> None:
        self.graph = graph
        self.retention = retention
        self.lease = Lease(graph, "retention", 2 * retention.check_seconds)
        self._last = 0.0

    @property
    def enabled(self) -> bool:
        return any(days > 0 for days in (self.retention.evaluation_days, self.retention.visit_days,
                                         self.retention.delivery_days))

    async def run_if_due(self) -> dict[str, int] | None:
        """Remove what is past retention when a check is due and this process holds the lease; what was
        removed, or None when it was not this process's turn."""
        if not self.enabled or time.monotonic() - self._last < self.retention.check_seconds:
            return None
        self._last = time.monotonic()
        if not await self.lease.take():
            return None
        return await self.apply()

    async def run(self) -> None:
        """Check every so often (at most a minute apart) until cancelled; a failed run is retried at the next."""
        while True:
            try:
                removed = await self.run_if_due()
                if removed and any(removed.values()):
                    log.info("retention removed %d evaluations, %d web visits and %d delivered webhook deliveries",
                             removed["evaluations"], removed["visits"], removed["deliveries"])
            except asyncio.CancelledError:
                raise
            except DatabaseUnavailable:
                pass  # the live loop says so
            except Exception:
                log.exception("the retention job failed; it runs again at its next check")
            await asyncio.sleep(min(self.retention.check_seconds, 60.0))

    async def apply(self) -> dict[str, int]:
        removed = {"evaluations": 0, "visits": 0, "deliveries": 0}
        while True:
            [row] = await self.graph.run(Q.RETENTION_APPLY, evaluationRetentionDays=self.retention.evaluation_days,
                                         visitRetentionDays=self.retention.visit_days,
                                         deliveryRetentionDays=self.retention.delivery_days, limit=BATCH)
            removed = {kind: removed[kind] + row[kind] for kind in removed}
            if all(row[kind] < BATCH for kind in removed):
                return removed
