"""Turns validated batches into batched UNWIND writes (no round trip per row)."""

from __future__ import annotations

from typing import Any

from service.database import Graph
from service.ingest.batches import Row, SourceBatch

Step = tuple[str, dict[str, Any]]


def source_steps(batch: SourceBatch) -> list[Step]:
    # People and accounts first: the relationship writes MATCH them.
    return [
        (query, {"source": batch.source, "rows": rows})
        for query, rows in (
            ("ingest_people", batch.people),
            ("ingest_accounts", batch.accounts),
            ("ingest_account_people", batch.account_people),
            ("ingest_opportunities", batch.opportunities),
            ("ingest_web_visits", batch.web_visits),
        )
        if rows
    ]


def mdm_steps(links: list[Row]) -> list[Step]:
    return [("ingest_same_company", {"rows": links})] if links else []


async def write_all(graph: Graph, batches: list[SourceBatch], links: list[Row]) -> None:
    """Write every batch and the MDM links in one transaction: all of it lands, or none."""
    steps = [step for batch in batches for step in source_steps(batch)] + mdm_steps(links)
    await graph.write_transaction(steps)
