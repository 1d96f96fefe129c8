"""The outbox of webhook deliveries in GraphQL: what is pending, delivered or dead-lettered, and re-drive."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from service.api import typed
from service.api.context import Context
from service.api.derived import graphql_enum
from service.api.permissions import needs
from service.api.temporal import native_datetime
from service.auth.keys import Scope
from service.realtime import outbox
from service.realtime.outbox import DeliveryStatus
from service.segments.engine import MAX_PAGE, page_size

graphql_enum(DeliveryStatus, {
    "PENDING": "To be sent, or to be retried at nextAttemptAt.",
    "DELIVERED": "Every batch taken by the receiver.",
    "DEAD": "Dead-lettered: refused, or out of tries; can be re-driven.",
})


@strawberry.type(description="One live delivery of a segment's changes to a DELTA webhook, kept in the outbox.")
class Delivery:
    id: strawberry.ID = strawberry.field(description="The delivery's id.")
    segment_id: strawberry.ID = strawberry.field(description="The id of the segment whose changes it carries.")
    segment: str | None = strawberry.field(description="The segment's name (none once it is deleted).")
    destination: str = strawberry.field(description="The name of the webhook destination.")
    status: DeliveryStatus = strawberry.field(description="Where it stands.")
    attempts: int = strawberry.field(description="Tries made so far (reset by a re-drive).")
    batch_ids: list[str] = strawberry.field(
        description="The ids of its batches, fixed at the first try: every retry sends the same (empty before).")
    batches_delivered: int = strawberry.field(description="Batches the receiver has taken.")
    people: int = strawberry.field(description="People whose changes it carries (0 once delivered: not kept).")
    entered: int | None = strawberry.field(description="People it sends as entered (known from the first try).")
    left: int | None = strawberry.field(description="People it sends as left (known from the first try).")
    last_error: str | None = strawberry.field(description="Why the last try failed (HTTP status or network error).")
    created_at: datetime = strawberry.field(description="When it was queued (ISO 8601 date-time, UTC).")
    next_attempt_at: datetime | None = strawberry.field(description=(
        "When a pending delivery is tried next (ISO 8601 date-time, UTC); none otherwise."))
    last_attempt_at: datetime | None = strawberry.field(description=(
        "When it was last tried (ISO 8601 date-time, UTC); none before the first try."))
    delivered_at: datetime | None = strawberry.field(description=(
        "When the receiver took its last batch (ISO 8601 date-time, UTC); none until then."))
    redriven: bool = strawberry.field(description="Re-driven after it was dead-lettered.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Delivery:
        return cls(id=strawberry.ID(row["id"]), segment_id=strawberry.ID(row["segmentId"]), segment=row["segment"],
                   destination=row["destination"], status=DeliveryStatus(row["status"]), attempts=row["attempts"],
                   batch_ids=row["batchIds"] or [], batches_delivered=row["delivered"] or 0, people=row["people"],
                   entered=row["entered"], left=row["left"], last_error=row["lastError"],
                   created_at=row["createdAt"].to_native(), next_attempt_at=native_datetime(row["nextAttemptAt"]),
                   last_attempt_at=native_datetime(row["lastAttemptAt"]),
                   delivered_at=native_datetime(row["deliveredAt"]),
                   redriven=bool(row["redriven"]))


@strawberry.type
class DeliveryQuery:
    @typed.field(extensions=needs(Scope.ADMIN),
                 description=f"Webhook deliveries, newest first (a page of at most {MAX_PAGE}), of one status, "
                             f"destination or segment, or all.")
    async def deliveries(
        self, info: strawberry.Info[Context, None],
        status: Annotated[DeliveryStatus | None, strawberry.argument(description=(
            "Only deliveries of this status; all when none."))] = None,
        destination: Annotated[str | None, strawberry.argument(description=(
            "Only deliveries to the destination of this name; all when none."))] = None,
        first: Annotated[int, strawberry.argument(description=(
            f"How many at most: 1 to {MAX_PAGE} (default 100)."))] = 100,
        segment_id: Annotated[strawberry.ID | None, strawberry.argument(
            description="Only the deliveries of this segment's changes; all when none.")] = None,
    ) -> list[Delivery]:
        rows = await outbox.deliveries(info.context.graph, status.value if status else None, destination,
                                       limit=page_size(first), segment_id=str(segment_id) if segment_id else None)
        return [Delivery.from_row(row) for row in rows]


@strawberry.type
class DeliveryMutation:
    @typed.mutation(extensions=needs(Scope.ADMIN),
                    description="Send a dead-lettered delivery again, with the same batches and batch ids.")
    async def redrive_delivery(
        self, info: strawberry.Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The id of the DEAD delivery.")],
    ) -> Delivery:
        return Delivery.from_row(await outbox.redrive(info.context.graph, str(id)))
