"""Start-up without Neo4j: the service answers at once and applies the schema as soon as Neo4j does.

`Readiness.run()` is a background task of the service: it retries the migration (idempotent) with
a growing pause until it succeeds, logging the first failure and the recovery, not every attempt;
then it warms Neo4j's plan cache (service.warmup, bounded by WARMUP_SECONDS) and from then on
watches Neo4j: a ping every WARMUP_CHECK_SECONDS, and when one fails (Neo4j restarting, its plan
cache empty once it is back) the warm-up runs again as soon as Neo4j answers.
`/readyz` is 200 only once the schema is applied, the warm-up done, and Neo4j answers a ping.
"""

from __future__ import annotations

import asyncio
import logging

from neo4j.exceptions import DriverError, Neo4jError

from service.database import DatabaseUnavailable, Graph
from service.timeouts import WARMUP_CHECK_SECONDS, WARMUP_SECONDS
from service.warmup import WarmReport, warm

log = logging.getLogger("accountgraph")

FIRST_PAUSE_SECONDS = 0.5
MAX_PAUSE_SECONDS = 5.0


class Readiness:
    def __init__(self, graph: Graph, first_pause: float = FIRST_PAUSE_SECONDS,
                 max_pause: float = MAX_PAUSE_SECONDS, warm_seconds: float = WARMUP_SECONDS,
                 check_seconds: float = WARMUP_CHECK_SECONDS) -> None:
        self.graph = graph
        self.first_pause = first_pause
        self.max_pause = max_pause
        self.warm_seconds = warm_seconds
        self.check_seconds = check_seconds
        self.schema_applied = asyncio.Event()
        self.warmed = asyncio.Event()  # cleared while Neo4j is out of reach and until it is warmed again
        self.warm_ups: list[WarmReport] = []  # every warm-up so far, the last one last
        self.last_error: str | None = None
        self.lost = False  # a ping failed since the last warm-up: warm up again once Neo4j answers

    async def run(self) -> None:
        """Apply the schema, warm up, then watch for Neo4j going away and warm up again once it is back."""
        await self.apply_schema()
        await self.warm_up()
        await self.watch()

    async def warm_up(self) -> None:
        self.warmed.clear()
        self.warm_ups.append(await warm(self.graph, self.warm_seconds))
        self.warmed.set()

    async def watch(self) -> None:
        """A ping every check_seconds; after one failed, warm up again once Neo4j answers. A restart
        shorter than check_seconds goes unseen (Neo4j takes longer than that to start)."""
        while True:
            await asyncio.sleep(self.check_seconds)
            try:
                await self.graph.ping()
            except (DatabaseUnavailable, DriverError, Neo4jError) as error:
                self._lose(error)
                continue
            if self.lost:
                self.lost = False
                log.info("Neo4j answers again: warming up its plan cache")
                await self.warm_up()

    def _lose(self, error: BaseException) -> None:
        if not self.lost:
            log.warning("Neo4j out of reach (%s): warming up again once it answers", _reason(error))
        self.lost = True
        self.warmed.clear()

    async def apply_schema(self) -> None:
        """Apply the schema, retrying until it works (Neo4j may start after the service)."""
        pause = self.first_pause
        attempts = 0
        while True:
            attempts += 1
            try:
                await self.graph.migrate()
            except (DatabaseUnavailable, DriverError, Neo4jError) as error:
                reason = _reason(error)
                if attempts == 1 or reason != self.last_error:
                    log.warning("Neo4j not ready (%s); the schema will be applied when it is, "
                                "/readyz answers 503 until then", reason)
                self.last_error = reason
                await asyncio.sleep(pause)
                pause = min(pause * 2, self.max_pause)
                continue
            self.last_error = None
            self.schema_applied.set()
            if attempts > 1:
                log.info("Neo4j answers: schema applied after %d attempts", attempts)
            return

    async def check(self) -> tuple[bool, dict[str, object]]:
        """(ready, what /readyz shows): the schema applied, the plan cache warmed, Neo4j answering now."""
        if not self.schema_applied.is_set():
            return False, {"status": "starting", "neo4j": self.last_error or "schema not applied yet"}
        try:
            await self.graph.ping()
        except (DatabaseUnavailable, DriverError, Neo4jError) as error:
            self._lose(error)
            return False, {"status": "unavailable", "neo4j": _reason(error)}
        if not self.warmed.is_set():
            return False, {"status": "warming"}
        return True, {"status": "ready", "warmed": self.warm_ups[-1].summary()}


def _reason(error: BaseException) -> str:
    """A short, secret-free reason: the class of the underlying driver error."""
    cause = error.__cause__ if isinstance(error, DatabaseUnavailable) and error.__cause__ else error
    return type(cause).__name__
