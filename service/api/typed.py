"""Strawberry's field decorators with their arguments, typed for mypy.

`@strawberry.field(description=...)` is typed as returning Any, so under `mypy --strict` every resolver
it decorates would be untyped (strawberry issue 1929). These make exactly the same call and say the
resolver keeps its type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from strawberry.extensions import FieldExtension

Resolver = TypeVar("Resolver", bound=Callable[..., Any])


def field(
    *, description: str | None = None, extensions: list[FieldExtension] | None = None
) -> Callable[[Resolver], Resolver]:
    decorate: Callable[[Resolver], Resolver] = strawberry.field(description=description, extensions=extensions)
    return decorate


def mutation(
    *, description: str | None = None, extensions: list[FieldExtension] | None = None
) -> Callable[[Resolver], Resolver]:
    decorate: Callable[[Resolver], Resolver] = strawberry.mutation(description=description, extensions=extensions)
    return decorate


def subscription(
    *, description: str | None = None, extensions: list[FieldExtension] | None = None, graphql_type: Any | None = None
) -> Callable[[Resolver], Resolver]:
    decorate: Callable[[Resolver], Resolver] = strawberry.subscription(
        description=description, extensions=extensions, graphql_type=graphql_type)
    return decorate
