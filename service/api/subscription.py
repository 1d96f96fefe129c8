"""GraphQL subscriptions (graphql-transport-ws): audience changes as they happen, from the change
feed in the graph (service.realtime.feed), resumable from the cursor of the last change heard."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from service.api import typed
from service.api.context import Context
from service.api.derived import graphql_type
from service.api.permissions import needs
from service.auth.keys import Scope
from service.realtime import broker
from service.realtime.feed import CursorError, parse_cursor, replay

# The broker's changes as they are, in GraphQL.
AudienceChange = graphql_type(broker.AudienceChange, "AudienceChange",
                              types={"segment_id": strawberry.ID, "company_id": strawberry.ID | None})


@strawberry.type(description="What can be watched live, over a WebSocket (graphql-transport-ws).")
class Subscription:
    @typed.subscription(extensions=needs(Scope.READ), graphql_type=AudienceChange,
                        description="Entries and exits of one saved segment (or of all), in the order of the "
                                    "change feed: from now on, or after the change whose `cursor` is `after` "
                                    "(to resume after a reconnect without missing one).")
    async def audience_changes(
        self, info: strawberry.Info[Context, None],
        segment_id: Annotated[strawberry.ID | None, strawberry.argument(description=(
            "Only the changes of this saved segment or account audience; of all when none."))] = None,
        after: Annotated[str | None, strawberry.argument(description=(
            "The `cursor` of the last change heard (POSITION:INDEX, e.g. `42:0`): replay every change after it, "
            "then go on live; none to start from now."))] = None,
    ) -> AsyncGenerator[broker.AudienceChange, None]:
        live = info.context.live
        if live is None:
            raise RuntimeError("subscriptions need the running service")
        segment = str(segment_id) if segment_id else None
        start = parse_cursor(after) if after is not None else (0, -1)
        until = await live.feed.catch_up()  # everything committed so far has been published ...
        subscription = live.broker.open(segment)  # ... so this queue gets exactly what comes after
        last = after
        try:
            if after is not None:
                async for change in replay(info.context.graph, after, until, segment):
                    last = change.cursor
                    yield change
            while True:
                change = await subscription.next()
                if parse_cursor(change.cursor) > start:  # not heard in the replay
                    last = change.cursor
                    yield change
        except broker.FellBehind:
            raise CursorError(f"the subscriber fell behind ({broker.QUEUE_LIMIT} changes waited for it): "
                              f"subscribe again with after: {last!r}") from None
        finally:
            subscription.close()
