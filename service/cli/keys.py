"""Commands for API keys: create (the key is printed once, on stdout alone), list, revoke."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from service.auth import store
from service.auth.keys import Scope
from service.cli.common import Commands, on_graph
from service.database import Graph


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


async def _create(graph: Graph, arguments: argparse.Namespace) -> None:
    record, text = await store.create(graph, arguments.name, [Scope(s) for s in arguments.scope],
                                      arguments.expires_in_days)
    expiry = f", expiring {_when(record.expires_at)}" if record.expires_at else ""
    print(f"Created API key {record.name!r} (id {record.id}) with scopes {', '.join(record.scopes)}{expiry}.\n"
          "This is the only time the key is shown; it is stored hashed. Send it as 'Authorization: Bearer <key>':",
          file=sys.stderr)
    print(text, flush=True)


async def _list(graph: Graph) -> None:
    keys = await store.all_keys(graph)
    if not keys:
        print("No API keys. Create one with: accountgraph key create --name NAME --scope read")
    for key in keys:
        state = (f"revoked {_when(key.revoked_at)}" if key.revoked_at else
                 f"expired {_when(key.expires_at)}" if key.expires_at and key.expires_at <= datetime.now(UTC) else
                 f"active until {_when(key.expires_at)}" if key.expires_at else "active")
        print(f"{key.id}  {key.name}  scopes: {','.join(key.scopes)}  created {_when(key.created_at)}  "
              f"last used {_when(key.last_used_at)}  {state}")


async def _revoke(graph: Graph, arguments: argparse.Namespace) -> None:
    record = await store.revoke(graph, arguments.id)
    print(f"Revoked API key {record.name!r} (id {record.id}) at {_when(record.revoked_at)}.")


def register(commands: Commands) -> None:
    key = commands.add_parser("key", help="API keys of the GraphQL API and POST /events").add_subparsers(
        dest="action", required=True)
    create = key.add_parser("create", help="create a key; it is printed once, on stdout")
    create.add_argument("--name", required=True, help="who or what uses it, e.g. 'CRM sync'")
    create.add_argument("--scope", action="append", required=True, choices=[s.value for s in Scope],
                        help="read (queries, subscriptions), write (ingestion), admin (everything); repeat for several")
    create.add_argument("--expires-in-days", type=float, metavar="DAYS",
                        help=f"the key stops working after this many days (at most {store.MAX_DAYS}); "
                             "by default it works until revoked")
    create.set_defaults(handler=lambda s, a: on_graph(s, lambda g: _create(g, a)))
    key.add_parser("list", help="every key: id, name, scopes, when created, last used, expiry, revoked").set_defaults(
        handler=lambda s, a: on_graph(s, _list))
    revoke = key.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("id", help="the key's id (from `key list`, or the part after 'ag_')")
    revoke.set_defaults(handler=lambda s, a: on_graph(s, lambda g: _revoke(g, a)))
