"""Mutations that create, change, delete and evaluate saved segments."""

from __future__ import annotations

import json

import strawberry

from service.api.context import Context
from service.api.rule import RuleInput, rule_data
from service.api.segment import Segment, SegmentEvaluation
from service.segments import engine
from service.segments.engine import SegmentError


@strawberry.type
class SegmentMutation:
    @strawberry.mutation(description="Save a rule as a named segment.")
    async def create_segment(self, info: strawberry.Info[Context, None], name: str, rule: RuleInput,
                             description: str = "") -> Segment:
        graph = info.context.graph
        draft = await engine.draft(graph, name, description, rule_data(rule))
        if await graph.read("segments_by_name", names=[draft.name]):
            raise SegmentError(f"a segment named {draft.name!r} exists already")
        rows = await graph.write("segment_create", name=draft.name, description=draft.description,
                                 rule=draft.rule_json, uses=draft.uses)
        return Segment.from_row(rows[0]["segment"])

    @strawberry.mutation(description="Change a segment's name, description or rule.")
    async def update_segment(self, info: strawberry.Info[Context, None], id: strawberry.ID, name: str | None = None,
                             description: str | None = None, rule: RuleInput | None = None) -> Segment:
        graph = info.context.graph
        rows = await graph.read("segments_by_id", ids=[str(id)])
        if not rows:
            raise SegmentError(f"no saved segment with id {id!r}")
        current = rows[0]["segment"]
        data = rule_data(rule) if rule is not None else json.loads(current["rule"])
        draft = await engine.draft(graph, name if name is not None else current["name"],
                                   description if description is not None else current.get("description") or "",
                                   data, own_id=str(id))
        clash = await graph.read("segments_by_name", names=[draft.name])
        if clash and clash[0]["id"] != str(id):
            raise SegmentError(f"a segment named {draft.name!r} exists already")
        rows = await graph.write("segment_update", id=str(id), name=draft.name, description=draft.description,
                                 rule=draft.rule_json, uses=draft.uses)
        return Segment.from_row(rows[0]["segment"])

    @strawberry.mutation(description="Delete a segment and its history; refused while another segment builds on it.")
    async def delete_segment(self, info: strawberry.Info[Context, None], id: strawberry.ID) -> bool:
        graph = info.context.graph
        users = [row["name"] for row in await graph.read("segment_users", id=str(id))]
        if users:
            raise SegmentError(f"segment is used by {', '.join(users)}; change those first")
        rows = await graph.write("segment_delete", id=str(id))
        return bool(rows and rows[0]["deleted"])

    @strawberry.mutation(description="Evaluate a saved segment now and record who entered and who left.")
    async def evaluate_segment(self, info: strawberry.Info[Context, None], id: strawberry.ID) -> SegmentEvaluation:
        return SegmentEvaluation.from_row(await engine.evaluate(info.context.graph, str(id)))
