"""The data steward's commands: link suggestions listed, accepted, rejected (docs/stewardship.md)."""

from __future__ import annotations

import argparse
import getpass

from service.cli.common import Commands, on_graph
from service.config import Settings
from service.database import Graph
from service.stewardship import suggestions


def _evidence(pair: dict[str, object]) -> str:
    a, b, found = pair["a"], pair["b"], pair["evidence"]
    assert isinstance(a, dict) and isinstance(b, dict) and isinstance(found, list)
    shared = ", ".join(f"{e['kind']} {e['value']}" for e in found)
    return f"{a['source']}/{a['sourceKey']} {a['name']!r} ~ {b['source']}/{b['sourceKey']} {b['name']!r}: {shared}"


async def _suggest(graph: Graph, first: int, min_score: float) -> None:
    found = await suggestions.suggestions(graph, first, min_score)
    for s in found:
        a, b = s.companies
        print(f"{s.score:.3f}  {a['id']} + {b['id']}  won {a.get('wonSum') or 0:,.0f} + {b.get('wonSum') or 0:,.0f}"
              f" = {s.merged['wonSum']:,.0f}  id {s.id}")
        for pair in s.pairs:
            print(f"       {_evidence(pair)}")
    print(f"{len(found)} suggestions with a score of at least {min_score}")


async def _accept(graph: Graph, id: str, by: str) -> None:
    accepted = await suggestions.accept(graph, id, by, by)
    print(f"Linked as {accepted.source} ({accepted.link_id}): one company, {accepted.company_id}")


async def _reject(graph: Graph, id: str, by: str, reason: str) -> None:
    pairs = await suggestions.reject(graph, id, by, reason)
    print(f"Rejected: {pairs} pairs of accounts will not be suggested again")


def cmd_links(settings: Settings, arguments: argparse.Namespace) -> None:
    if arguments.action == "suggest":
        on_graph(settings, lambda graph: _suggest(graph, arguments.first, arguments.min_score))
    elif arguments.action == "accept":
        on_graph(settings, lambda graph: _accept(graph, arguments.id, arguments.by))
    else:
        on_graph(settings, lambda graph: _reject(graph, arguments.id, arguments.by, arguments.reason))


def register(commands: Commands) -> None:
    links = commands.add_parser("links", help="link suggestions for the data steward: suggest, accept, reject")
    actions = links.add_subparsers(dest="action", required=True)
    suggest = actions.add_parser("suggest", help="candidate SAME_COMPANY links, best first, with their evidence")
    suggest.add_argument("--first", type=int, default=50)
    suggest.add_argument("--min-score", type=float, default=0.5)
    for name, text in (("accept", "make a suggested link (source 'steward:<by>')"),
                       ("reject", "reject a suggestion: never suggested again")):
        action = actions.add_parser(name, help=text)
        action.add_argument("id", help="the suggestion's id, from `links suggest`")
        action.add_argument("--by", default=getpass.getuser(), help="who decides (default: the user)")
        if name == "reject":
            action.add_argument("--reason", default="")
    links.set_defaults(handler=cmd_links)
