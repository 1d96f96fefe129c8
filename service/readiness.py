"""Start-up without Neo4j: the service answers at once and applies the schema as soon as Neo4j does.

`Readiness.run()` is a background task of the service: it retries the migration (idempotent) with
a growing pause until it succeeds, logging the first failure and the recovery, not every attempt.
`/readyz` is 200 only once the schema is applied and Neo4j answers a ping.
"""

from __future__ import annotations

import asyncio
import logging

from neo4j.exceptions import DriverError, Neo4jError

from service.database import DatabaseUnavailable, Graph

log = logging.getLogger("accountgraph")

FIRST_PAUSE_SECONDS = 0.5
MAX_PAUSE_SECONDS = 5.0


class Readiness:
    def __init__(self, graph: Graph, first_pause: float = FIRST_PAUSE_SECONDS,
                 max_pause: float = MAX_PAUSE_SECONDS) -> None:
        self.graph = graph
        self.first_pause = first_pause
        self.max_pause = max_pause
        self.schema_applied = asyncio.Event()
        self.last_error: str | None = None

    async def run(self) -> None:
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

    async def check(self) -> tuple[bool, dict[str, str]]:
        """(ready, what /readyz shows): the schema applied and Neo4j answering now."""
        if not self.schema_applied.is_set():
            return False, {"status": "starting", "neo4j": self.last_error or "schema not applied yet"}
        try:
            await self.graph.ping()
        except (DatabaseUnavailable, DriverError, Neo4jError) as error:
            return False, {"status": "unavailable", "neo4j": _reason(error)}
        return True, {"status": "ready"}


def _reason(error: BaseException) -> str:
    """A short, secret-free reason: the class of the underlying driver error."""
    cause = error.__cause__ if isinstance(error, DatabaseUnavailable) and error.__cause__ else error
    return type(cause).__name__
