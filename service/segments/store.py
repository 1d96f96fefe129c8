"""Saved segments: create, change, delete, find; every change checked as the API and CLI need.
A segment saved (created, or its rule changed) has its compiled queries warmed at once (service.segments.warm),
so its first count or evaluation does not plan them; a failure to warm is logged, the save stands."""

from __future__ import annotations

import json
import logging
from typing import Any

from service.database import Graph
from service.errors import ErrorCode
from service.queries import Q
from service.segments import engine
from service.segments.engine import SegmentError
from service.segments.rules import Subject
from service.segments.warm import warm_segment

Row = dict[str, Any]
log = logging.getLogger("accountgraph.segments")


async def find(graph: Graph, id_or_name: str) -> Row | None:
    """A segment by id, or else by name."""
    rows = await graph.run(Q.SEGMENTS_BY_ID, ids=[id_or_name])
    if not rows:
        named = await graph.run(Q.SEGMENTS_BY_NAME, names=[id_or_name])
        rows = await graph.run(Q.SEGMENTS_BY_ID, ids=[named[0]["id"]]) if named else []
    return rows[0]["segment"] if rows else None


async def _name_taken(graph: Graph, name: str, own_id: str | None = None) -> None:
    clash = await graph.run(Q.SEGMENTS_BY_NAME, names=[name])
    if clash and clash[0]["id"] != own_id:
        raise SegmentError(f"a segment named {name!r} exists already", code=ErrorCode.CONFLICT)


async def create(graph: Graph, name: str, description: str, rule: Any, subject: str = Subject.PERSON) -> Row:
    """Save a segment of people, or an account audience (subject COMPANY); the subject stays as saved."""
    draft = await engine.draft(graph, name, description, rule, subject=subject)
    await _name_taken(graph, draft.name)
    rows = await graph.run(Q.SEGMENT_CREATE, name=draft.name, description=draft.description,
                           rule=draft.rule_json, subject=subject, uses=draft.uses)
    saved: Row = rows[0]["segment"]
    await _warm(graph, saved)
    return saved


async def _warm(graph: Graph, saved: Row) -> None:
    try:
        await warm_segment(graph, saved)
    except Exception as error:  # a plan that fails to warm costs the first request its planning, no more
        log.warning("warm-up of the saved segment %s failed: %s", saved["id"], type(error).__name__)


async def update(graph: Graph, segment_id: str, name: str | None, description: str | None, rule: Any | None) -> Row:
    found = await graph.run(Q.SEGMENTS_BY_ID, ids=[segment_id])
    if not found:
        raise SegmentError(f"no saved segment with id {segment_id!r}", code=ErrorCode.NOT_FOUND)
    segment = found[0]["segment"]
    draft = await engine.draft(graph, name if name is not None else segment["name"],
                               description if description is not None else segment.get("description") or "",
                               rule if rule is not None else json.loads(segment["rule"]), own_id=segment_id,
                               subject=engine.subject_of(segment))
    await _name_taken(graph, draft.name, segment_id)
    rows = await graph.run(Q.SEGMENT_UPDATE, id=segment_id, name=draft.name, description=draft.description,
                           rule=draft.rule_json, uses=draft.uses)
    saved: Row = rows[0]["segment"]
    if draft.rule_json != segment["rule"]:
        await _warm(graph, saved)
    return saved


async def delete(graph: Graph, segment_id: str) -> bool:
    users = [row["name"] for row in await graph.run(Q.SEGMENT_USERS, id=segment_id)]
    if users:
        raise SegmentError(f"segment is used by {', '.join(users)}; change those first", code=ErrorCode.CONFLICT)
    rows = await graph.run(Q.SEGMENT_DELETE, id=segment_id)
    return bool(rows and rows[0]["deleted"])
