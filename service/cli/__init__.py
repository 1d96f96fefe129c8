"""The `accountgraph` command line: one module per group of commands."""

from __future__ import annotations

import argparse
import sys

from service.activation.activate import ActivationError
from service.activation.webhook import DeliveryFailed
from service.auth.store import KeyStoreError
from service.cli import audiences, data, keys, privacy, server, steward
from service.config import get_settings
from service.erasure.erase import ErasureError
from service.ingest.errors import ImportRejected
from service.neo4j_server import Neo4jServerError
from service.segments.engine import SegmentError
from service.segments.rules import RuleError
from service.stewardship.suggestions import SuggestionError


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="accountgraph", description=__doc__)
    commands = main.add_subparsers(dest="command", required=True)
    for group in (server, data, audiences, keys, privacy, steward):
        group.register(commands)
    return main


def main(argv: list[str] | None = None) -> None:
    arguments = parser().parse_args(argv)
    try:
        arguments.handler(get_settings(), arguments)
    except ImportRejected as rejected:
        print(rejected, file=sys.stderr)
        raise SystemExit(1) from None
    except (RuleError, SegmentError, ActivationError, DeliveryFailed, Neo4jServerError, KeyStoreError,
            ErasureError, SuggestionError) as error:
        print(f"accountgraph: {error}", file=sys.stderr)
        raise SystemExit(2) from None
