"""Commands for segments, destinations and activation."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from service.activation.activate import KINDS, MODES, DeliveryMode, DestinationSettings, activate, add_destination
from service.cli.common import Commands, on_graph
from service.database import Graph
from service.queries import Q
from service.segments import engine, store
from service.segments.engine import SegmentError
from service.segments.rules import Subject, parse_rule

SUBJECTS = [subject.value for subject in Subject]


def _rule(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise SegmentError(f"{path}: not a readable JSON rule ({error})") from None


async def _found(graph: Graph, id_or_name: str) -> dict[str, Any]:
    segment = await store.find(graph, id_or_name)
    if segment is None:
        raise SegmentError(f"no saved segment with id or name {id_or_name!r}")
    return segment


async def _save(graph: Graph, arguments: argparse.Namespace) -> None:
    existing = await store.find(graph, arguments.name)
    rule = _rule(arguments.rule)
    if existing:
        segment = await store.update(graph, existing["id"], None, arguments.description, rule)
    else:
        segment = await store.create(graph, arguments.name, arguments.description or "", rule, arguments.subject)
    kind = "account audience" if engine.subject_of(segment) == Subject.COMPANY else "segment"
    print(f"Saved {kind} {segment['name']!r} (id {segment['id']})")


async def _list(graph: Graph) -> None:
    for row in await graph.run(Q.SEGMENTS_ALL):
        segment = row["segment"]
        print(f"{segment['id']}  {segment['name']}  members at last evaluation: {segment.get('memberCount', '-')}")


async def _evaluate(graph: Graph, arguments: argparse.Namespace) -> None:
    segment = await _found(graph, arguments.segment)
    evaluation = await engine.evaluate(graph, segment["id"])
    print(f"{segment['name']}: {evaluation['count']} members, {evaluation['entered']} entered, "
          f"{evaluation['left']} left")


async def _preview(graph: Graph, arguments: argparse.Namespace) -> None:
    subject = arguments.subject
    compiled = await engine.compile_for(graph, parse_rule(_rule(arguments.rule), subject), None, subject)
    members, more = await engine.members(graph, compiled, 20, None)
    what, key = ("companies", "companyId") if subject == Subject.COMPANY else ("people", "email")
    print(f"{await engine.count(graph, compiled)} {what}; first {len(members)}{' (more follow)' if more else ''}:")
    for member in members:
        print(f"  {member[key]}")


async def _add_destination(graph: Graph, arguments: argparse.Namespace) -> None:
    secret = os.environ.get(arguments.secret_env) if arguments.secret_env else None
    settings = DestinationSettings(arguments.name, arguments.kind, arguments.instance, arguments.url, secret,
                                   arguments.mode)
    destination = await add_destination(graph, settings)
    print(f"Added destination {destination['name']!r} ({destination['kind']})")


async def _activate(graph: Graph, arguments: argparse.Namespace, exports: Path) -> None:
    segment = await _found(graph, arguments.segment)
    result = await activate(graph, segment["id"], arguments.destination, exports)
    print(f"Activated {segment['name']!r} to {arguments.destination!r}: {result['sent']} sent, "
          f"{result['withoutConsent']} without consent, {result['unknownToDestination']} unknown there, "
          f"{result['entered']} entered, {result['left']} left")
    for name in result["files"]:  # kept with the activation in the graph; a copy written here
        print(f"  {exports / result['id'] / name}")


def register(commands: Commands) -> None:
    segment = commands.add_parser("segment", help="saved segments").add_subparsers(dest="action", required=True)
    save = segment.add_parser("save", help="create or update a segment from a JSON rule file")
    save.add_argument("--name", required=True)
    save.add_argument("--description")
    save.add_argument("--rule", type=Path, required=True, help="a JSON file holding the rule (as RuleInput in GraphQL)")
    save.add_argument("--subject", choices=SUBJECTS, default=Subject.PERSON.value,
                      help="PERSON (a segment of people) or COMPANY (an account audience); kept as first saved")
    save.set_defaults(handler=lambda s, a: on_graph(s, lambda g: _save(g, a)))
    segment.add_parser("list").set_defaults(handler=lambda s, a: on_graph(s, _list))
    evaluate = segment.add_parser("evaluate", help="evaluate now and record who entered and left")
    evaluate.add_argument("segment", help="id or name")
    evaluate.set_defaults(handler=lambda s, a: on_graph(s, lambda g: _evaluate(g, a)))
    preview = segment.add_parser("preview", help="count and list a rule's people without saving it")
    preview.add_argument("--rule", type=Path, required=True)
    preview.add_argument("--subject", choices=SUBJECTS, default=Subject.PERSON.value)
    preview.set_defaults(handler=lambda s, a: on_graph(s, lambda g: _preview(g, a)))

    destination = commands.add_parser("destination", help="where audiences go").add_subparsers(
        dest="action", required=True)
    add = destination.add_parser("add")
    add.add_argument("--name", required=True)
    add.add_argument("--kind", required=True, choices=KINDS)
    add.add_argument("--instance", help="MARKETO: the source instance, e.g. 'Marketo 1'")
    add.add_argument("--url", help="WEBHOOK: where to POST")
    add.add_argument("--secret-env", help="WEBHOOK: the environment variable holding the signing secret")
    add.add_argument("--mode", choices=MODES, default=DeliveryMode.DELTA.value)
    add.set_defaults(handler=lambda s, a: on_graph(s, lambda g: _add_destination(g, a)))

    activate_command = commands.add_parser("activate", help="send a segment's consenting members to a destination")
    activate_command.add_argument("--segment", required=True, help="id or name")
    activate_command.add_argument("--destination", required=True)
    activate_command.set_defaults(handler=lambda s, a: on_graph(s, lambda g: _activate(g, a, s.exports_dir)))
