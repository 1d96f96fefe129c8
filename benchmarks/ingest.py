"""Ingestion benchmark: a synthetic export imported through the product's own path, timed per source.

    python -m benchmarks.ingest --people 100000

Generates the export into .cache/bench/<N>/ (unless a complete one is there), starts a throwaway
local Neo4j as the tests do but sized for this machine (heap 4g, page cache 4g), migrates, imports
every source folder and then MDM with `service.ingest.pipeline.ingest_path`, counts the graph,
imports one source again (the re-import of unchanged data), prints a table and writes the figures
to docs/benchmarks/ingest-<N>.json.

Where the time goes: each source is also read and parsed once without writing (the Python-only
part of an import), and the CPU seconds of this process and of the Neo4j server are measured around
each import. With --profile, cProfile runs around the imports and the top functions are written
next to the JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import platform
import pstats
import resource
import shutil
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from benchmarks.generate import DEFAULT_AS_OF, MANIFEST, generate
from service.config import PROJECT_ROOT, get_settings
from service.database import Graph, Neo4jConnection, Transaction
from service.ingest.batch import parse_table
from service.ingest.errors import RowError
from service.ingest.pipeline import ingest_path, read_path
from service.ingest.progress import ProgressBar
from service.neo4j_server import LocalNeo4j, free_port, install, neo4j_version
from service.queries import Q

CACHE = PROJECT_ROOT / ".cache" / "bench"
RESULTS = PROJECT_ROOT / "docs" / "benchmarks"
HEAP = "4g"  # sized for the 2-core, 24 GiB machine: the rest is left to Python and the OS
PAGECACHE = "4g"
PASSWORD = "bench-password"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Figures:
    """One import: rows, wall seconds, and where the CPU went."""

    source: str
    folder: str
    rows: int
    seconds: float
    parse_seconds: float  # reading and parsing the files alone, no Neo4j
    python_cpu_seconds: float  # this process during the import
    neo4j_cpu_seconds: float  # the server during the import
    queries: dict[str, list[float]]  # write query -> [seconds, rows, calls]

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


# ---- the export and the server ----------------------------------------------------------------


def export_for(people: int, seed: int, as_of: date) -> tuple[Path, float | None]:
    """The cached export for `people`, generated if missing; (folder, generation seconds or None)."""
    return export(CACHE / str(people), people, seed, as_of)


def export(root: Path, people: int, seed: int, as_of: date) -> tuple[Path, float | None]:
    """The export in `root`, generated there unless a complete one is there; (root, generation
    seconds or None if it was there)."""
    if (root / MANIFEST).exists():  # written last: a complete tree
        return root, None
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    print(generate(root, people, seed, as_of), flush=True)
    return root, time.perf_counter() - started


@contextmanager
def throwaway_neo4j(heap: str = HEAP, pagecache: str = PAGECACHE) -> Iterator[LocalNeo4j]:
    """A local Neo4j on free loopback ports in a temporary home, removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="accountgraph-bench-"))
    server = LocalNeo4j(lib=install(get_settings().neo4j_home), home=home, bolt_port=free_port(),
                        http_port=free_port(), password=PASSWORD, heap=heap, pagecache=pagecache)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (0 if it cannot be read)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, TypeError):
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


# ---- measuring --------------------------------------------------------------------------------


@contextmanager
def query_timer() -> Iterator[dict[str, list[float]]]:
    """Seconds and rows per catalogue query run in a write transaction ({name: [seconds, rows, calls]}),
    by wrapping Transaction.run for the duration; the import itself is unchanged."""
    spent: dict[str, list[float]] = {}
    run = Transaction.run

    async def timed(tx: Transaction, query: Q, /, **parameters: Any) -> list[dict[str, Any]]:
        started = time.perf_counter()
        try:
            return await run(tx, query, **parameters)
        finally:
            entry = spent.setdefault(query.value, [0.0, 0, 0])
            entry[0] += time.perf_counter() - started
            entry[1] += len(parameters.get("rows") or parameters.get("keys") or ())
            entry[2] += 1

    Transaction.run = timed  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        Transaction.run = run  # type: ignore[method-assign]


def parse_only(path: Path, mdm: bool) -> float:
    """Seconds to read and parse a folder's files: the Python-only share of an import."""
    started = time.perf_counter()
    errors: list[RowError] = []
    for raw in read_path(path, mdm):
        parse_table(raw, errors, datetime.now(UTC))
    if errors:
        raise RuntimeError(f"{path}: {errors[:3]}")
    return time.perf_counter() - started


class ImportFailed(Exception):
    """An import that raised: what it had written by then, and why it stopped."""

    def __init__(self, figures: Figures, error: BaseException) -> None:
        super().__init__(f"{figures.source}: {type(error).__name__}: {error}")
        self.figures = figures
        self.error = error


async def timed_import(graph: Graph, server_pid: int | None, path: Path, source: str | None,
                       mdm: bool = False) -> Figures:
    parse_seconds = parse_only(path, mdm)
    python_cpu, neo4j_cpu = time.process_time(), cpu_seconds(server_pid)
    started = time.perf_counter()

    def figures(rows: int, seconds: float) -> Figures:
        return Figures(source or "MDM", path.name, rows, seconds, parse_seconds, time.process_time() - python_cpu,
                       cpu_seconds(server_pid) - neo4j_cpu, queries)

    with ProgressBar(f"Ingesting {path.name}") as bar, query_timer() as queries:
        try:
            report = await ingest_path(graph, path, source, mdm=mdm, progress=bar.advance)
        except Exception as error:  # recorded with what was written before it, then reported
            raise ImportFailed(figures(bar.rows, time.perf_counter() - started), error) from error
    done = figures(report.rows, report.seconds)
    print(f"  {done.source}: {done.rows:,} rows in {done.seconds:.1f} s ({done.rows_per_second:,.0f} rows/s)",
          flush=True)
    return done


async def graph_counts(graph: Graph) -> dict[str, Any]:
    """Nodes and relationships, in total and per label and type (from Neo4j's count store)."""

    async def column(statement: str) -> list[Any]:
        records, _, _ = await graph.driver.execute_query(statement, database_=graph.database)
        return [record[0] for record in records]

    labels = sorted(await column("CALL db.labels()"))
    types = sorted(await column("CALL db.relationshipTypes()"))
    return {
        "nodes": (await column("MATCH (n) RETURN count(n)"))[0],
        "relationships": (await column("MATCH ()-[r]->() RETURN count(r)"))[0],
        "labels": {label: (await column(f"MATCH (n:`{label}`) RETURN count(n)"))[0] for label in labels},
        "types": {kind: (await column(f"MATCH ()-[r:`{kind}`]->() RETURN count(r)"))[0] for kind in types},
    }


@dataclass
class Measured:
    imports: list[Figures]
    graph: dict[str, Any]
    failure: ImportFailed | None = None
    reingest: Figures | None = None
    reingest_changed_nothing: bool | None = None


async def _import_all(graph: Graph, pid: int | None, root: Path, manifest: dict[str, Any],
                      imports: list[Figures]) -> None:
    """Every source folder, then MDM (whose links name the sources' accounts), appended to imports as done."""
    for source in manifest["sources"]:
        imports.append(await timed_import(graph, pid, root / source["folder"], source["name"]))
    imports.append(await timed_import(graph, pid, root / manifest["mdm"]["folder"], None, mdm=True))


async def benchmark(root: Path, server: LocalNeo4j, reingest: str) -> Measured:
    manifest = tomllib.loads((root / MANIFEST).read_text())
    graph = Graph(Neo4jConnection(server.uri, "neo4j", SecretStr(PASSWORD), "neo4j"))
    pid = server.running_pid()
    try:
        await graph.migrate()
        measured = Measured([], {})
        try:
            await _import_all(graph, pid, root, manifest, measured.imports)
        except ImportFailed as failed:
            print(f"Import failed: {failed}", flush=True)
            measured.imports.append(failed.figures)
            measured.failure = failed
        measured.graph = await graph_counts(graph)
        if measured.failure is None:
            again = next(source for source in manifest["sources"] if source["name"] == reingest)
            print(f"Re-importing {reingest} (unchanged data) ...", flush=True)
            measured.reingest = await timed_import(graph, pid, root / again["folder"], again["name"])
            after = await graph_counts(graph)
            measured.reingest_changed_nothing = (after["nodes"], after["relationships"]) == (
                measured.graph["nodes"], measured.graph["relationships"])
    finally:
        await graph.close()
    return measured


# ---- reporting --------------------------------------------------------------------------------


def _figures(figures: Figures) -> dict[str, Any]:
    return asdict(figures) | {"rows_per_second": figures.rows_per_second}


def _totals(imports: list[Figures]) -> dict[str, float]:
    rows = sum(f.rows for f in imports)
    seconds = sum(f.seconds for f in imports)
    return {"rows": rows, "seconds": seconds, "rows_per_second": rows / seconds if seconds else 0.0,
            "parse_seconds": sum(f.parse_seconds for f in imports),
            "python_cpu_seconds": sum(f.python_cpu_seconds for f in imports),
            "neo4j_cpu_seconds": sum(f.neo4j_cpu_seconds for f in imports)}


def results(people: int, seed: int, as_of: date, generation_seconds: float | None,
            measured: Measured) -> dict[str, Any]:
    totals = _totals(measured.imports)
    elements = measured.graph["nodes"] + measured.graph["relationships"]
    reingest = measured.reingest
    return {
        "people": people, "seed": seed, "as_of": as_of.isoformat(),
        "generation_seconds": generation_seconds,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "neo4j": neo4j_version(), "heap": HEAP, "pagecache": PAGECACHE},
        "failure": None if measured.failure is None else {
            "import": measured.failure.figures.source, "error": f"{type(measured.failure.error).__name__}: "
                                                                f"{measured.failure.error}"},
        "imports": [_figures(f) for f in measured.imports],
        "totals": totals,
        "graph": measured.graph | {"elements_per_second": elements / totals["seconds"] if totals["seconds"] else 0.0},
        "reingest": None if reingest is None else _figures(reingest) | {
            "changed_nothing": measured.reingest_changed_nothing},
        "python_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _query_totals(imports: list[dict[str, Any]]) -> dict[str, tuple[float, int]]:
    """Seconds and rows per write query over all imports, slowest first."""
    totals: dict[str, tuple[float, int]] = {}
    for figures in imports:
        for name, (seconds, rows, _) in figures["queries"].items():
            before = totals.get(name, (0.0, 0))
            totals[name] = (before[0] + seconds, before[1] + int(rows))
    return dict(sorted(totals.items(), key=lambda item: -item[1][0]))


def table(figures: dict[str, Any]) -> str:
    header = (f"{'import':<12} {'rows':>11} {'seconds':>9} {'rows/s':>9} {'parse s':>9} "
              f"{'python cpu':>11} {'neo4j cpu':>10}")
    lines = [f"Ingest benchmark: {figures['people']:,} people (seed {figures['seed']})", header, "-" * len(header)]

    def line(name: str, f: dict[str, Any]) -> str:
        return (f"{name:<12} {f['rows']:>11,} {f['seconds']:>9.1f} {f['rows_per_second']:>9,.0f} "
                f"{f['parse_seconds']:>9.1f} {f['python_cpu_seconds']:>11.1f} {f['neo4j_cpu_seconds']:>10.1f}")

    lines += [line(f["source"], f) for f in figures["imports"]]
    lines += ["-" * len(header), line("total", figures["totals"])]
    if figures["reingest"]:
        lines.append(line("re-import", figures["reingest"]))
    if figures["failure"]:
        lines.append(f"FAILED in {figures['failure']['import']} (rows above: written before the failure): "
                     f"{figures['failure']['error'][:300]}")
    graph = figures["graph"]
    lines.append(f"graph: {graph['nodes']:,} nodes, {graph['relationships']:,} relationships, "
                 f"{graph['elements_per_second']:,.0f} nodes+relationships/s")
    lines.append("  " + ", ".join(f"{k} {v:,}" for k, v in graph["labels"].items()))
    lines.append("  " + ", ".join(f"{k} {v:,}" for k, v in graph["types"].items()))
    lines.append("write time per query (all imports): " + ", ".join(
        f"{name} {seconds:.1f} s ({rows / seconds if seconds else 0:,.0f} rows/s)"
        for name, (seconds, rows) in _query_totals(figures["imports"]).items()))
    if figures["reingest"]:
        lines.append(f"re-import of {figures['reingest']['source']} changed nothing: "
                     f"{figures['reingest']['changed_nothing']}")
    lines.append(f"Python peak RSS {figures['python_peak_rss_mib']:,.0f} MiB")
    return "\n".join(lines)


def write_profile(profile: cProfile.Profile, path: Path, top: int = 40) -> None:
    with path.open("w") as handle:
        stats = pstats.Stats(profile, stream=handle)
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)


# ---- command line -----------------------------------------------------------------------------


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", type=date.fromisoformat, default=DEFAULT_AS_OF)
    parser.add_argument("--reingest", default="Marketo 1", help="the source imported a second time")
    parser.add_argument("--profile", action="store_true", help="cProfile the imports (slower)")
    return parser.parse_args()


def main() -> None:
    args = arguments()
    root, generation_seconds = export_for(args.people, args.seed, args.as_of)
    profile = cProfile.Profile() if args.profile else None
    with throwaway_neo4j() as server:
        if profile:
            profile.enable()
        measured = asyncio.run(benchmark(root, server, args.reingest))
        if profile:
            profile.disable()
    figures = results(args.people, args.seed, args.as_of, generation_seconds, measured)
    print(table(figures))
    RESULTS.mkdir(parents=True, exist_ok=True)
    output = RESULTS / f"ingest-{args.people}.json"
    output.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"Figures written to {output.relative_to(PROJECT_ROOT)}")
    if profile:
        write_profile(profile, output.with_suffix(".profile.txt"))
        print(f"Profile written to {output.with_suffix('.profile.txt').relative_to(PROJECT_ROOT)}")
    if measured.failure:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
