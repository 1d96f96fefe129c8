"""Loads a seed folder (manifest.toml + one folder per source + MDM) in one transaction."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from service.database import Graph
from service.ingest.batches import Row, SourceBatch, read_mdm, read_source
from service.ingest.writer import write_all


@dataclass(frozen=True)
class SeedData:
    batches: list[SourceBatch]
    links: list[Row]


def read_seed(seed_dir: Path, today: date | None = None) -> SeedData:
    """Read and validate every file; web visits are shifted from the manifest's as_of to today."""
    manifest = tomllib.loads((seed_dir / "manifest.toml").read_text())
    shift = timedelta(days=((today or datetime.now(timezone.utc).date()) - manifest["as_of"]).days)
    batches = [read_source(seed_dir / s["folder"], s["name"]) for s in manifest["sources"]]
    for batch in batches:
        for visit in batch.web_visits:
            visit["visitedAt"] += shift
    known_accounts = set().union(*(batch.account_keys() for batch in batches))
    links = read_mdm(seed_dir / manifest["mdm"]["folder"], known_accounts)
    return SeedData(batches, links)


async def seed(graph: Graph, seed_dir: Path, today: date | None = None) -> SeedData:
    data = read_seed(seed_dir, today)
    await write_all(graph, data.batches, data.links)
    return data
