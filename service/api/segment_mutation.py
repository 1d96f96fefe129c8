"""Mutations that create, change, delete and evaluate saved segments."""

from __future__ import annotations

from typing import Annotated

import strawberry

from service.api import typed
from service.api.context import Context
from service.api.permissions import needs
from service.api.rule import RuleInput, Subject, rule_data
from service.api.segment import Segment, SegmentEvaluation
from service.auth.keys import Scope
from service.segments import engine, store

SegmentId = Annotated[strawberry.ID, strawberry.argument(description="The saved segment's id.")]


@strawberry.type
class SegmentMutation:
    @typed.mutation(extensions=needs(Scope.ADMIN), description=(
        "Save a rule as a named segment: of people, or with subject COMPANY an account audience (a rule on "
        "companies). The subject cannot change later."))
    async def create_segment(
        self, info: strawberry.Info[Context, None],
        name: Annotated[str, strawberry.argument(description="The segment's name.")],
        rule: Annotated[RuleInput, strawberry.argument(description="The rule its members pass.")],
        description: Annotated[str, strawberry.argument(description=(
            "What the segment is for (free text; default empty)."))] = "",
        subject: Annotated[Subject, strawberry.argument(description=(
            "PERSON (default): a segment of people; COMPANY: an account audience."))] = Subject.PERSON,
    ) -> Segment:
        return Segment.from_row(await store.create(info.context.graph, name, description, rule_data(rule), subject))

    @typed.mutation(extensions=needs(Scope.ADMIN), description="Change a segment's name, description or rule.")
    async def update_segment(
        self, info: strawberry.Info[Context, None], id: SegmentId,
        name: Annotated[str | None, strawberry.argument(description="A new name; none keeps it.")] = None,
        description: Annotated[str | None, strawberry.argument(description=(
            "A new description; none keeps it."))] = None,
        rule: Annotated[RuleInput | None, strawberry.argument(description=(
            "A new rule, of the segment's subject; none keeps it."))] = None,
    ) -> Segment:
        data = rule_data(rule) if rule is not None else None
        return Segment.from_row(await store.update(info.context.graph, str(id), name, description, data))

    @typed.mutation(extensions=needs(Scope.ADMIN),
                    description="Delete a segment and its history; refused while another segment builds on it.")
    async def delete_segment(self, info: strawberry.Info[Context, None], id: SegmentId) -> bool:
        return await store.delete(info.context.graph, str(id))

    @typed.mutation(extensions=needs(Scope.ADMIN),
                    description="Evaluate a saved segment now and record who entered and who left.")
    async def evaluate_segment(self, info: strawberry.Info[Context, None], id: SegmentId) -> SegmentEvaluation:
        return SegmentEvaluation.from_row(await engine.evaluate(info.context.graph, str(id)))
