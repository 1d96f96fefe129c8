"""Loads a seed folder: manifest.toml names the source folders and the MDM folder."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from service.database import Graph
from service.ingest.batch import Batch
from service.ingest.pipeline import IngestReport, ingest_path


def _shift_visits(days: int) -> Callable[[Batch], None]:
    def adjust(batch: Batch) -> None:
        for visit in batch.upserts("web-visits"):
            visit["visitedAt"] += timedelta(days=days)

    return adjust


async def seed(graph: Graph, seed_dir: Path, today: date | None = None) -> list[IngestReport]:
    """Import every source of the seed, then its MDM links.

    Web-visit times are shifted by (today - as_of) whole days, so the demo's visits keep their age.
    """
    manifest = tomllib.loads((seed_dir / "manifest.toml").read_text())
    days = ((today or datetime.now(UTC).date()) - manifest["as_of"]).days
    reports = [
        await ingest_path(graph, seed_dir / source["folder"], source["name"], adjust=_shift_visits(days))
        for source in manifest["sources"]
    ]
    reports.append(await ingest_path(graph, seed_dir / manifest["mdm"]["folder"], mdm=True))
    return reports
