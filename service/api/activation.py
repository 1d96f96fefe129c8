"""Destinations and activations in GraphQL."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from service.activation.activate import DeliveryMode, DestinationKind, DestinationSettings, activate, add_destination
from service.api import typed
from service.api.context import Context
from service.api.derived import graphql_enum
from service.api.permissions import needs
from service.auth.keys import Scope
from service.config import get_settings

# Declared in service.activation.activate; this makes them GraphQL enums too.
graphql_enum(DestinationKind)
graphql_enum(DeliveryMode)


@strawberry.type(description="Where audiences are sent. A webhook's secret is never shown.")
class Destination:
    name: str
    kind: str
    instance: str | None
    url: str | None
    mode: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Destination:
        return cls(name=row["name"], kind=row["kind"], instance=row.get("instance"), url=row.get("url"),
                   mode=row.get("mode"), created_at=row["createdAt"].to_native())


@strawberry.type(description="One send of a segment to a destination: how many, to where, and the delta.")
class Activation:
    id: strawberry.ID
    at: datetime
    destination: str
    sent: int = strawberry.field(description="People in the file, or in the webhook batches.")
    without_consent: int = strawberry.field(description="Members left out: no consent for this channel.")
    unknown_to_destination: int = strawberry.field(description="Members the Marketo instance does not know.")
    entered: int
    left: int
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
    async def add_destination(self, info: strawberry.Info[Context, None], name: str, kind: DestinationKind,
                              instance: str | None = None, url: str | None = None, secret: str | None = None,
                              mode: DeliveryMode = DeliveryMode.DELTA) -> Destination:
        settings = DestinationSettings(name=name.strip(), kind=kind.value, instance=instance, url=url, secret=secret,
                                       mode=mode.value)
        return Destination.from_row(await add_destination(info.context.graph, settings))

    @typed.mutation(extensions=needs(Scope.ADMIN),
                    description="Evaluate a saved segment and send its consenting members to a destination.")
    async def activate(self, info: strawberry.Info[Context, None], segment_id: strawberry.ID,
                       destination: str) -> Activation:
        row = await activate(info.context.graph, str(segment_id), destination, get_settings().exports_dir)
        return Activation.from_row(row, destination)
