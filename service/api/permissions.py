"""Scopes on GraphQL fields: each root field names the one scope a key needs for it.

Nested fields need nothing more: a key that may reach a root field may read what it returns.

(Strawberry's PermissionExtension cannot be used: it takes the parent object as a keyword named
`source`, which collides with the `source` argument of the upsert mutations. This extension
takes its positional parameters positionally only.)
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension

from service.auth.keys import Scope
from service.errors import AccountGraphError, ErrorCode


class MissingScope(AccountGraphError):
    """The request's key does not hold the scope a field needs; the answer names the scope."""

    default_code = ErrorCode.FORBIDDEN

    def __init__(self, field_name: str, scope: Scope) -> None:
        super().__init__(
            f"{field_name} needs an API key with the '{scope.value}' scope, which the key used does not have")
        self.scope = scope

    @property
    def extensions(self) -> dict[str, Any]:
        return {**super().extensions, "missingScope": self.scope.value}


class RequireScope(FieldExtension):
    """Runs the field only when the request's key holds the scope (or admin); else an error naming it."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def check(self, info: strawberry.Info) -> None:
        key = getattr(info.context, "key", None)
        if key is None or not key.grants(self.scope):
            raise MissingScope(info.field_name, self.scope)

    def resolve(  # type: ignore[override]  # positional-only, so an argument named `source` reaches **kwargs
        self, next_: Callable[..., Any], root: Any, info: strawberry.Info, /, **kwargs: Any
    ) -> Any:
        self.check(info)
        return next_(root, info, **kwargs)

    async def resolve_async(  # type: ignore[override]  # positional-only, as resolve
        self, next_: Callable[..., Awaitable[Any]], root: Any, info: strawberry.Info, /, **kwargs: Any
    ) -> Any:
        self.check(info)
        result = next_(root, info, **kwargs)
        return result if inspect.isasyncgen(result) else await result


def needs(scope: Scope) -> list[FieldExtension]:
    """The extensions of a field that needs `scope`: `@typed.field(extensions=needs(Scope.READ))`."""
    return [RequireScope(scope)]


def required_scope(field: Any) -> Scope | None:
    """The scope a schema field needs, or None if it has no scope check (tests check every root field has one)."""
    scopes = [e.scope for e in getattr(field, "extensions", None) or [] if isinstance(e, RequireScope)]
    return scopes[0] if len(scopes) == 1 else None
