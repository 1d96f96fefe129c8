"""API keys in GraphQL: listed and revoked by an admin key. Keys are created with the CLI only
(`accountgraph key create`), so no key secret is ever part of a GraphQL answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from service.api import typed
from service.api.context import Context
from service.api.permissions import needs
from service.auth import store
from service.auth.keys import Scope


@strawberry.type(description="An API key as stored: never its secret, which only its creator saw.")
class ApiKeyInfo:
    id: strawberry.ID = strawberry.field(description="The key's id (not its secret).")
    name: str = strawberry.field(description="The name given when the key was created.")
    scopes: list[str] = strawberry.field(description=(
        "What the key may do: read, write and/or admin (admin implies the others)."))
    created_at: datetime = strawberry.field(description="When the key was created (ISO 8601 date-time, UTC).")
    expires_at: datetime | None = strawberry.field(description=(
        "When the key stops working (ISO 8601 date-time, UTC); null: it works until revoked."))
    revoked_at: datetime | None = strawberry.field(description=(
        "When the key was revoked (ISO 8601 date-time, UTC); none while it is not."))
    last_used_at: datetime | None = strawberry.field(description=(
        "When the key was last used (ISO 8601 date-time, UTC), updated at most once a minute; null: never used."))

    @classmethod
    def from_record(cls, record: store.KeyRecord) -> ApiKeyInfo:
        return cls(id=strawberry.ID(record.id), name=record.name, scopes=list(record.scopes),
                   created_at=record.created_at, expires_at=record.expires_at,
                   revoked_at=record.revoked_at, last_used_at=record.last_used_at)


@strawberry.type
class KeyQuery:
    @typed.field(extensions=needs(Scope.ADMIN), description="Every API key, oldest first.")
    async def api_keys(self, info: strawberry.Info[Context, None]) -> list[ApiKeyInfo]:
        return [ApiKeyInfo.from_record(record) for record in await store.all_keys(info.context.graph)]


@strawberry.type
class KeyMutation:
    @typed.mutation(extensions=needs(Scope.ADMIN),
                    description="Revoke an API key: every later request with it gets 401 (at once on this "
                                "service process, within a second on the others), and its open subscriptions "
                                "are closed within a second.")
    async def revoke_api_key(
        self, info: strawberry.Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The key's id (ApiKeyInfo.id).")],
    ) -> ApiKeyInfo:
        record = await store.revoke(info.context.graph, str(id))
        if info.context.keys is not None:
            info.context.keys.forget(record.id)
        return ApiKeyInfo.from_record(record)
