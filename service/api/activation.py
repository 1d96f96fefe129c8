"""Destinations and activations in GraphQL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from service.activation.activate import DeliveryMode, DestinationKind, DestinationSettings, activate, add_destination
from service.api import typed
from service.api.context import Context
from service.api.derived import graphql_enum
from service.api.permissions import needs
from service.auth.keys import Scope
from service.config import get_settings

# Declared in service.activation.activate; this makes them GraphQL enums too.
graphql_enum(DestinationKind, {
    "MARKETO": "A Marketo instance (`instance`): a static-list import CSV and add-leads-to-list request bodies, "
               "with the lead ids of that instance.",
    "LINKEDIN": "LinkedIn Matched Audiences: a contact list CSV of SHA-256-hashed emails.",
    "LINKEDIN_COMPANIES": "LinkedIn Matched Audiences company list CSV (account targeting): the companies of the "
                          "segment's members.",
    "WEBHOOK": "Signed JSON batches POSTed to `url`, signed with `secret`.",
}, description="The kind of a destination, which decides what an activation sends there.")
graphql_enum(DeliveryMode, {
    "DELTA": "Only the changes: who entered and who left since the last send (and live changes through the "
             "outbox); the default.",
    "FULL": "Every consenting member at each activation.",
}, description="What a webhook destination receives.")


@strawberry.type(description="Where audiences are sent. A webhook's secret is never shown.")
class Destination:
    name: str = strawberry.field(description="The destination's unique name (1 to 200 characters).")
    kind: str = strawberry.field(description="Its kind: MARKETO, LINKEDIN, LINKEDIN_COMPANIES or WEBHOOK.")
    instance: str | None = strawberry.field(description=(
        "MARKETO: the Marketo instance, named as its source (e.g. `Marketo 1`); none for other kinds."))
    url: str | None = strawberry.field(description="WEBHOOK: the http(s) URL batches are POSTed to; else none.")
    mode: str | None = strawberry.field(description="WEBHOOK: DELTA or FULL; else none.")
    created_at: datetime = strawberry.field(description="When it was added (ISO 8601 date-time, UTC).")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Destination:
        return cls(name=row["name"], kind=row["kind"], instance=row.get("instance"), url=row.get("url"),
                   mode=row.get("mode"), created_at=row["createdAt"].to_native())


@strawberry.type(description="One send of a segment to a destination: how many, to where, and the delta.")
class Activation:
    id: strawberry.ID = strawberry.field(description="The activation's id.")
    at: datetime = strawberry.field(description="When it was made (ISO 8601 date-time, UTC).")
    destination: str = strawberry.field(description="The name of the destination it went to.")
    sent: int = strawberry.field(description="People in the file, or in the webhook batches.")
    without_consent: int = strawberry.field(description="Members left out: no consent for this channel.")
    unknown_to_destination: int = strawberry.field(description="Members the Marketo instance does not know.")
    entered: int = strawberry.field(description=(
        "Members new since this segment was last sent to this destination (a number of people)."))
    left: int = strawberry.field(description=(
        "Members sent last time to this destination who are no longer in the segment (a number of people)."))
    files: list[str] = strawberry.field(description=(
        "The names of the files of an activation to a file destination (Marketo, LinkedIn); empty for a webhook."))
    batches: list[str] = strawberry.field(description="Webhook batch ids delivered.")

    @typed.field(description=(
        "Where to download each file (GET with an admin key, relative to the service). A file is made from "
        "the graph when downloaded: the people sent, less any erased since."))
    def downloads(self) -> list[str]:
        return [f"/activations/{self.id}/files/{name}" for name in self.files]

    @classmethod
    def from_row(cls, row: dict[str, Any], destination: str | None = None) -> Activation:
        return cls(id=strawberry.ID(row["id"]), at=row["at"].to_native(), destination=destination or row["destination"],
                   sent=row["sent"], without_consent=row["withoutConsent"],
                   unknown_to_destination=row["unknownToDestination"],
                   entered=row["entered"], left=row["left"], files=row["files"], batches=row["batches"])


@strawberry.type
class ActivationMutation:
    @typed.mutation(extensions=needs(Scope.ADMIN),
                    description="Configure a destination: a Marketo instance, LinkedIn, or a webhook.")
    async def add_destination(
        self, info: strawberry.Info[Context, None],
        name: Annotated[str, strawberry.argument(description="A unique name for it, 1 to 200 characters.")],
        kind: Annotated[DestinationKind, strawberry.argument(description="What kind of destination it is.")],
        instance: Annotated[str | None, strawberry.argument(description=(
            "MARKETO (required): the Marketo instance, named as its source, e.g. `Marketo 1`."))] = None,
        url: Annotated[str | None, strawberry.argument(description=(
            "WEBHOOK (required): the http or https URL to POST batches to."))] = None,
        secret: Annotated[str | None, strawberry.argument(description=(
            "WEBHOOK (required): the signing secret, at least 16 characters; stored, never returned."))] = None,
        mode: Annotated[DeliveryMode, strawberry.argument(description=(
            "WEBHOOK: what it receives (default DELTA)."))] = DeliveryMode.DELTA,
    ) -> Destination:
        settings = DestinationSettings(name=name.strip(), kind=kind.value, instance=instance, url=url, secret=secret,
                                       mode=mode.value)
        return Destination.from_row(await add_destination(info.context.graph, settings))

    @typed.mutation(extensions=needs(Scope.ADMIN),
                    description="Evaluate a saved segment and send its consenting members to a destination.")
    async def activate(
        self, info: strawberry.Info[Context, None],
        segment_id: Annotated[strawberry.ID, strawberry.argument(description="The id of the saved segment.")],
        destination: Annotated[str, strawberry.argument(description="The name of the destination.")],
    ) -> Activation:
        row = await activate(info.context.graph, str(segment_id), destination, get_settings().exports_dir)
        return Activation.from_row(row, destination)
