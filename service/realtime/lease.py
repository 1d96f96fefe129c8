"""Leases in the graph: work that one process of many must do at a time (the sweep of time windows)
is done by the holder of its lease, renewed each time; when the holder dies, the lease expires and
another process takes it over."""

from __future__ import annotations

import uuid

from service.database import Graph
from service.queries import Q


class Lease:
    def __init__(self, graph: Graph, name: str, seconds: float) -> None:
        self.graph = graph
        self.name = name
        self.seconds = seconds
        self.holder = uuid.uuid4().hex  # this process (this loop), for as long as it runs

    async def take(self) -> bool:
        """Whether this process holds the lease now, for `seconds` more (taken or renewed)."""
        rows = await self.graph.run(Q.LEASE_TAKE, name=self.name, holder=self.holder,
                                    milliseconds=round(self.seconds * 1000))
        return bool(rows) and rows[0]["holder"] == self.holder
