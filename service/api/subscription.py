"""GraphQL subscriptions (graphql-transport-ws): audience changes as they happen."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from service.api import typed
from service.api.context import Context
from service.api.derived import graphql_type
from service.api.permissions import needs
from service.auth.keys import Scope
from service.realtime import broker

# The broker's changes as they are, in GraphQL.
AudienceChange = graphql_type(broker.AudienceChange, "AudienceChange", types={"segment_id": strawberry.ID})


@strawberry.type
class Subscription:
    @typed.subscription(extensions=needs(Scope.READ), graphql_type=AudienceChange,
                        description="Entries and exits of one saved segment (or of all), from now on.")
    async def audience_changes(self, info: strawberry.Info[Context, None], segment_id: strawberry.ID | None = None
                               ) -> AsyncGenerator[broker.AudienceChange, None]:
        live = info.context.live
        if live is None:
            raise RuntimeError("subscriptions need the running service")
        async for change in live.broker.subscribe(str(segment_id) if segment_id else None):
            yield change
