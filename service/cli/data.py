"""Commands that put data in: schema, seed, imports. (Synthetic exports: `python -m benchmarks.generate`.)"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from service.cli.common import Commands, on_graph
from service.config import Settings, get_settings
from service.database import Graph
from service.ingest import figures
from service.ingest.errors import ImportRejected
from service.ingest.pipeline import ingest_path
from service.ingest.progress import ProgressBar
from service.seed import seed


async def seed_and_report(graph: Graph, seed_dir: Path) -> None:
    for report in await seed(graph, seed_dir):
        print(f"Seeded {report}")


async def _ingest(graph: Graph, arguments: argparse.Namespace) -> None:
    with ProgressBar(f"Ingesting {arguments.path}") as bar:
        report = await ingest_path(graph, arguments.path, arguments.source, mdm=arguments.mdm, progress=bar.advance)
    print(f"Ingested {report}")


async def _migrated(graph: Graph) -> None:
    print("Schema up to date.")


def cmd_migrate(settings: Settings, arguments: argparse.Namespace) -> None:
    on_graph(settings, _migrated)


def cmd_ingest(settings: Settings, arguments: argparse.Namespace) -> None:
    try:
        on_graph(settings, lambda graph: _ingest(graph, arguments))
    except ImportRejected as rejected:
        if arguments.report:
            rejected.write_report(arguments.report)
            print(f"Errors written to {arguments.report}", file=sys.stderr)
        raise


async def _verify(graph: Graph, repair: bool) -> int:
    drifts = await figures.verify(graph, repair)
    for drift in drifts:
        print(f"Drift: {drift}")
    companies = len({drift.company for drift in drifts})
    if not drifts:
        print("Company figures verified: every company's figures match its deals.")
    elif repair:
        print(f"Repaired the figures of {companies} companies.")
    else:
        print(f"{companies} companies hold figures their deals do not add up to; "
              "`accountgraph verify --repair` recomputes them.", file=sys.stderr)
    return 1 if drifts and not repair else 0


def cmd_verify(settings: Settings, arguments: argparse.Namespace) -> None:
    status = on_graph(settings, lambda graph: _verify(graph, arguments.repair))
    if status:
        raise SystemExit(status)


def cmd_seed(settings: Settings, arguments: argparse.Namespace) -> None:
    on_graph(settings, lambda graph: seed_and_report(graph, arguments.dir))


def register(commands: Commands) -> None:
    commands.add_parser("migrate", help="apply constraints and indexes").set_defaults(handler=cmd_migrate)
    verify = commands.add_parser("verify", help="recompute every company's opportunity figures from its deals "
                                                "and report each drift (exit code 1)")
    verify.add_argument("--repair", action="store_true", help="keep the recomputed figures")
    verify.set_defaults(handler=cmd_verify)
    seed_command = commands.add_parser("seed", help="load a seed folder (idempotent)")
    seed_command.add_argument("--dir", type=Path, default=get_settings().seed_dir)
    seed_command.set_defaults(handler=cmd_seed)
    ingest = commands.add_parser("ingest", help="import a source's export folder or file, or the MDM crosswalk")
    which = ingest.add_mutually_exclusive_group(required=True)
    which.add_argument("--source", help='the source instance, e.g. "Marketo 1"')
    which.add_argument("--mdm", action="store_true", help="the path holds MDM same-company links")
    ingest.add_argument("--report", type=Path, help="write the errors of a rejected import to this CSV file")
    ingest.add_argument("path", type=Path)
    ingest.set_defaults(handler=cmd_ingest)
