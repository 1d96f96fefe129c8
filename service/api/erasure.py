"""The right to erasure in GraphQL: `erasePerson(email)`, with an admin key."""

from __future__ import annotations

from typing import Annotated

import strawberry

from service.api import typed
from service.api.context import Context
from service.api.permissions import needs
from service.auth.keys import Scope
from service.config import get_settings
from service.erasure.erase import Erasure, erase


@strawberry.type(description="How many relationships of one type an erasure deleted.")
class RelationshipCount:
    type: str = strawberry.field(description="The relationship type, e.g. ASSOCIATED_WITH.")
    count: int = strawberry.field(description="How many were deleted.")


@strawberry.type(description="What an erasure deleted and changed. The email itself is not repeated.")
class ErasureResult:
    suppression: str = strawberry.field(
        description="The first 12 hex digits of the suppression hash: how logs name this erasure.")
    person: int = strawberry.field(
        description="1, or 0 when no such person was in the graph (the suppression is recorded anyway).")
    web_visits: int = strawberry.field(description="How many of the person's web visits were deleted.")
    relationships: list[RelationshipCount] = strawberry.field(description="By type, web visits' VISITED included.")
    suppressed_ids: int = strawberry.field(
        description="Source ids of the person recorded (hashed), so that old rows naming them are skipped.")
    destinations: list[str] = strawberry.field(
        description="Destinations the person had been sent to: they still hold them; ask them to erase too.")
    segments_naming_email: list[str] = strawberry.field(
        description="Saved segments whose rule holds the email as a value: edit them.")
    webhook_deliveries: int = strawberry.field(
        description="Webhook deliveries not yet delivered that the person was taken out of.")
    export_files: list[str] = strawberry.field(description="Activation files the person's lines were removed from.")
    export_lines: int = strawberry.field(description="How many lines were removed from activation files in all.")
    export_failures: list[str] = strawberry.field(
        description="Activation files that could not be read or rewritten, and why.")

    @classmethod
    def of(cls, erasure: Erasure) -> ErasureResult:
        return cls(
            suppression=erasure.suppression, person=erasure.person, web_visits=erasure.web_visits,
            relationships=[RelationshipCount(type=t, count=c) for t, c in sorted(erasure.relationships.items())],
            suppressed_ids=erasure.suppressed_ids, destinations=erasure.destinations,
            segments_naming_email=erasure.segments_naming, webhook_deliveries=erasure.webhook_deliveries,
            export_files=erasure.exports.files,
            export_lines=erasure.exports.lines, export_failures=erasure.exports.failed,
        )


@strawberry.type
class ErasureMutation:
    @typed.mutation(
        extensions=needs(Scope.ADMIN),
        description="Erase a person (by email) everywhere accountgraph holds them, "
                    "and keep later imports from bringing them back.")
    async def erase_person(
        self, info: strawberry.Info[Context, None],
        email: Annotated[str, strawberry.argument(description=(
            "The email address of the person to erase."))],
    ) -> ErasureResult:
        return ErasureResult.of(await erase(info.context.graph, email, get_settings().exports_dir))
