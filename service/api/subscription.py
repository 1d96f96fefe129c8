"""GraphQL subscriptions (graphql-transport-ws): audience changes as they happen."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

import strawberry

from service.api.context import Context
from service.api.derived import graphql_type
from service.api.permissions import needs
from service.auth.keys import Scope
from service.realtime import broker

if TYPE_CHECKING:  # the broker's own class, which the subscription yields
    AudienceChange = broker.AudienceChange
else:
    AudienceChange = graphql_type(broker.AudienceChange, "AudienceChange", types={"segment_id": strawberry.ID})


@strawberry.type
class Subscription:
    @strawberry.subscription(extensions=needs(Scope.READ), description="Entries and exits of one saved segment (or of all), from now on.")
    async def audience_changes(self, info: strawberry.Info[Context, None],
                               segment_id: strawberry.ID | None = None) -> AsyncGenerator[AudienceChange, None]:
        live = info.context.live
        if live is None:
            raise RuntimeError("subscriptions need the running service")
        async for change in live.broker.subscribe(str(segment_id) if segment_id else None):
            yield change
