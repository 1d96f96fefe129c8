"""Evaluating rules and keeping saved segments: count, members with evidence, snapshots."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from service.database import Graph
from service.errors import AccountGraphError, ErrorCode
from service.queries import cypher
from service.segments.compiler import Compiled, compile_rule
from service.segments.rules import Rule, RuleError, parse_rule, segment_reference_paths, segment_references

MAX_PAGE = 500
Row = dict[str, Any]


class SegmentError(AccountGraphError, ValueError):
    """A segment operation that cannot be done, with the reason."""

    default_code = ErrorCode.VALIDATION_FAILED


async def _saved_rules(graph: Graph, rule: Rule) -> dict[str, Rule]:
    """The rules of every saved segment this rule builds on, transitively."""
    rules: dict[str, Rule] = {}
    wanted = segment_references(rule)
    while wanted:
        rows = await graph.read("segments_by_id", ids=sorted(wanted))
        for row in rows:
            rules[row["id"]] = parse_rule(json.loads(row["segment"]["rule"]))
        missing = wanted - {row["id"] for row in rows}
        if missing:
            # The rule's own reference is named by its path; one inside a saved rule, as segment.id.
            path = next((p for p, id in segment_reference_paths(rule) if id in missing), "segment.id")
            raise RuleError(path, f"no saved segment with id {sorted(missing)[0]!r}")
        wanted = set().union(*(segment_references(rules[i]) for i in wanted)) - set(rules)
    return rules


async def compile_for(graph: Graph, rule: Rule, own_id: str | None = None) -> Compiled:
    saved = await _saved_rules(graph, rule)
    return compile_rule(rule, saved.__getitem__, own_id)


def page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise SegmentError(f"first: must be from 1 to {MAX_PAGE}")
    return first


async def count(graph: Graph, compiled: Compiled) -> int:
    rows = await graph.read_text(compiled.render(cypher("segment_count")), compiled.parameters)
    members: int = rows[0]["count"]
    return members


async def _members(graph: Graph, compiled: Compiled, limit: int, after: str | None) -> list[Row]:
    parameters = {**compiled.parameters, "first": limit, "after": after}
    return await graph.read_text(compiled.render(cypher("segment_members")), parameters)


async def members(graph: Graph, compiled: Compiled, first: int, after: str | None) -> tuple[list[Row], bool]:
    """A page of members in email order after `after`, each with the evidence of every condition,
    and whether more follow."""
    rows = await _members(graph, compiled, page_size(first) + 1, after)
    return rows[:first], len(rows) > first


async def current_members(graph: Graph, segment_id: str, first: int, after: str | None) -> tuple[list[Row], bool]:
    """A page of a saved segment's members as of its last evaluation (the live loop keeps it current),
    in email order after `after`, and whether more follow: a read of the stored membership, no evaluation."""
    people = (await graph.read("segment_member_page", id=segment_id, first=page_size(first) + 1,
                               after=after))[0]["people"]
    return people[:first], len(people) > first


async def all_members(graph: Graph, compiled: Compiled, limit: int) -> list[Row]:
    """Every member up to `limit`, for presets that answer in one list."""
    return await _members(graph, compiled, limit, None)


async def companies(graph: Graph, compiled: Compiled, first: int) -> list[Row]:
    parameters = {**compiled.parameters, "first": page_size(first)}
    return await graph.read_text(compiled.render(cypher("segment_companies")), parameters)


@dataclass(frozen=True)
class SegmentDraft:
    name: str
    description: str
    rule_json: str
    uses: list[str]


async def draft(graph: Graph, name: str, description: str, rule_data: Any, own_id: str | None = None) -> SegmentDraft:
    """Check a segment before it is saved: its name, and a rule that parses and compiles."""
    name = name.strip()
    if not name or len(name) > 200:
        raise SegmentError("a segment name must have 1 to 200 characters")
    if len(description) > 2000:
        raise SegmentError("a description may have at most 2000 characters")
    rule = parse_rule(rule_data)
    await compile_for(graph, rule, own_id)
    return SegmentDraft(name, description, json.dumps(rule_data, sort_keys=True), sorted(segment_references(rule)))


async def evaluate(graph: Graph, segment_id: str) -> Row:
    """Evaluate a saved segment now and record the snapshot (entered, left)."""
    rows = await graph.read("segments_by_id", ids=[segment_id])
    if not rows:
        raise SegmentError(f"no saved segment with id {segment_id!r}", code=ErrorCode.NOT_FOUND)
    compiled = await compile_for(graph, parse_rule(json.loads(rows[0]["segment"]["rule"])), segment_id)
    result = await graph.write_text(compiled.render(cypher("segment_evaluate")),
                                    {**compiled.parameters, "segmentId": segment_id})
    evaluation: Row = result[0]["evaluation"]
    return evaluation
