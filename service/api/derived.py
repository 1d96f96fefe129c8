"""GraphQL types derived from the declarations of the lower layers, so each is written once:
Python enums, dataclasses (an output type over the same fields) and the import format's columns
(an input type per record kind)."""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any, TypeVar

import strawberry

EnumType = TypeVar("EnumType", bound=type[Enum])


def _described(doc: str | None) -> str | None:
    return " ".join(doc.split()) if doc else None


def graphql_enum(enum: EnumType) -> EnumType:
    """A Python enum in GraphQL under its own name and values, described by its docstring if it has one."""
    return strawberry.enum(enum, description=_described(enum.__doc__))
