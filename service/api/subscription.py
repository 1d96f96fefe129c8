"""GraphQL subscriptions (graphql-transport-ws): audience changes as they happen."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from service.api import typed
from service.api.context import Context
from service.api.permissions import needs
from service.auth.keys import Scope


@strawberry.type(description="A person entering or leaving a saved segment.")
class AudienceChange:
    segment_id: strawberry.ID
    segment_name: str
    email: str
    change: str = strawberry.field(description="ENTERED or LEFT.")
    at: datetime


@strawberry.type
class Subscription:
    @typed.subscription(extensions=needs(Scope.READ),
                        description="Entries and exits of one saved segment (or of all), from now on.")
    async def audience_changes(self, info: strawberry.Info[Context, None],
                               segment_id: strawberry.ID | None = None) -> AsyncGenerator[AudienceChange, None]:
        live = info.context.live
        if live is None:
            raise RuntimeError("subscriptions need the running service")
        async for change in live.broker.subscribe(str(segment_id) if segment_id else None):
            yield AudienceChange(segment_id=strawberry.ID(change.segment_id), segment_name=change.segment_name,
                                 email=change.email, change=change.change, at=change.at)
