"""One import, end to end: read, parse, check references, then write; a bad value writes nothing."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from service.config import get_settings
from service.database import Graph
from service.ingest import fields
from service.ingest.batch import Batch, check_references, check_sync_sources, parse_table
from service.ingest.errors import ImportRejected, RowError
from service.ingest.families import check_families
from service.ingest.readers import RawTable, find_files, read_file
from service.ingest.specs import MDM_SOURCE, MDM_SPECS, SOURCE_SPECS
from service.ingest.suppressed import skip_suppressed
from service.ingest.writer import Progress, write_batch
from service.metrics import IMPORT_ROWS, IMPORTS_REJECTED


@dataclass(frozen=True)
class IngestReport:
    source: str
    rows: int
    seconds: float
    suppressed: int = 0  # rows of erased people skipped (service.ingest.suppressed)

    def __str__(self) -> str:
        rate = self.rows / self.seconds if self.seconds else 0.0
        skipped = f"; {self.suppressed} rows of erased people skipped" if self.suppressed else ""
        return f"{self.source}: {self.rows} rows in {self.seconds:.2f} s ({rate:,.0f} rows/s){skipped}"


def read_path(path: Path, mdm: bool = False) -> list[RawTable]:
    """The raw tables of an export folder or file; ImportRejected if a file cannot be read."""
    errors: list[RowError] = []
    tables = [read_file(spec, file, errors)
              for spec, file in find_files(path, MDM_SPECS if mdm else SOURCE_SPECS, errors)]
    if errors:
        raise ImportRejected(errors)
    return tables


def parse_tables(source: str, raw_tables: list[RawTable]) -> Batch:
    """The checks that need no graph: the source name, every value and key, the synced copies'
    sources; ImportRejected naming each error."""
    errors: list[RowError] = []
    try:
        source = fields.text(source)  # no NUL, no byte-order mark, valid Unicode
        if len(source) > fields.MAX_KEY:
            raise ValueError(f"may have at most {fields.MAX_KEY} characters")
    except ValueError as error:
        errors.append(RowError("-", 0, "source", f"the source name {error}"))
        source = ""
    if not source and not errors:
        errors.append(RowError("-", 0, "source", "a source name is required"))
    batch = Batch(source)
    latest = datetime.now(UTC) + timedelta(seconds=get_settings().clock_skew_seconds)
    for raw in raw_tables:
        table = parse_table(raw, errors, latest)
        if raw.spec.name in batch.tables:
            errors.append(RowError(raw.origin, 0, "-", f"{raw.spec.name} is given twice in one import"))
        batch.tables[raw.spec.name] = table
    check_sync_sources(batch, errors)
    if errors:
        raise ImportRejected(errors)
    return batch


async def ingest_tables(
    graph: Graph, source: str, raw_tables: list[RawTable], *,
    adjust: Callable[[Batch], None] | None = None, progress: Progress | None = None,
) -> IngestReport:
    started = time.perf_counter()
    try:
        batch = parse_tables(source, raw_tables)
        suppressed = await skip_suppressed(graph, batch)
        errors: list[RowError] = []
        await check_references(graph, batch, errors)
        if not errors:  # the hierarchy is checked on records that exist: no cycle, no parent in its own company
            await check_families(graph, batch, errors)
        if errors:
            raise ImportRejected(errors)
    except ImportRejected:
        IMPORTS_REJECTED.inc()
        raise
    if adjust:
        adjust(batch)
    await write_batch(graph, batch, datetime.now(UTC), progress)
    count_written(batch)
    return IngestReport(batch.source, batch.rows(), time.perf_counter() - started, suppressed)


def count_written(batch: Batch) -> None:
    """The rows of a written import in the metrics (service.metrics), by kind and action."""
    for name, table in batch.tables.items():
        if table.upserts:
            IMPORT_ROWS.labels(name, "upsert").inc(len(table.upserts))
        if table.deletions:
            IMPORT_ROWS.labels(name, "delete").inc(len(table.deletions))


async def ingest_path(
    graph: Graph, path: Path, source: str | None = None, *, mdm: bool = False,
    adjust: Callable[[Batch], None] | None = None, progress: Progress | None = None,
) -> IngestReport:
    """Import a source's export folder or file (or, with mdm, the MDM crosswalk)."""
    if mdm:
        source = MDM_SOURCE
    if source is None:
        raise ValueError("a source name is required for a source import")
    return await ingest_tables(graph, source, read_path(path, mdm), adjust=adjust, progress=progress)
