"""The right to erasure from the command line: `accountgraph erase --email ADDRESS`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from service.cli.common import Commands, on_graph
from service.config import Settings
from service.database import Graph
from service.erasure.erase import erase


async def _erase(graph: Graph, email: str, exports_dir: Path) -> None:
    erasure = await erase(graph, email, exports_dir)
    print(f"Erased: {erasure.summary()}.")
    for name in erasure.destinations:
        print(f"  destination {name!r} had received the person and still holds them: ask it to erase them too")
    for name in erasure.segments_naming:
        print(f"  segment {name!r} names the email in its rule: edit the rule")
    for file in erasure.exports.files:
        print(f"  changed {file}")
    for failure in erasure.exports.failed:
        print(f"  could not change {failure}", file=sys.stderr)
    if erasure.exports.failed:
        raise SystemExit(1)


def register(commands: Commands) -> None:
    command = commands.add_parser(
        "erase", help="erase a person everywhere (graph, activation files) and keep imports from bringing them back")
    command.add_argument("--email", required=True, help="the person's email (normalised: trimmed, lower-cased)")

    def handler(settings: Settings, arguments: argparse.Namespace) -> None:
        on_graph(settings, lambda graph: _erase(graph, arguments.email, settings.exports_dir))

    command.set_defaults(handler=handler)
