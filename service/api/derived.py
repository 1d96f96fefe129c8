"""GraphQL types derived from the declarations of the lower layers, so each is written once:
Python enums, dataclasses (an output type over the same fields) and the import format's columns
(an input type per record kind)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import Enum
from types import GenericAlias
from typing import Any, TypeVar, get_type_hints

import strawberry
from strawberry.types.arguments import StrawberryArgumentAnnotation

from service.ingest.specs import RecordSpec

EnumType = TypeVar("EnumType", bound=type[Enum])


def _described(doc: str | None) -> str | None:
    return " ".join(doc.split()) if doc else None


def graphql_enum(enum: EnumType, values: Mapping[str, str] | None = None, description: str | None = None) -> EnumType:
    """A Python enum in GraphQL under its own name and values, described by `description` or else its
    docstring, and each value by `values` (by the value's name). Given `values`, a value left out is an
    error, so an enum member added in a lower layer cannot reach the schema undescribed; without it,
    tests/unit/test_schema_descriptions.py names the values that have no description."""
    if values is not None:
        missing = [member.name for member in enum if member.name not in values]
        unknown = set(values) - {member.name for member in enum}
        if missing or unknown:
            raise ValueError(f"{enum.__name__}: no description for {missing}, descriptions of no value "
                             f"{sorted(unknown)}")
    graphql = strawberry.enum(enum, description=description or _described(enum.__doc__))
    for value in graphql.__strawberry_definition__.values:  # type: ignore[attr-defined]
        value.description = (values or {}).get(value.name)
    return graphql


def graphql_type(source: type[Any], name: str, types: dict[str, Any] | None = None) -> type[Any]:
    """An output type with the fields of a dataclass, described by its docstring and each field by its
    metadata's "description"; `types` replaces the type of some fields (a `str` id that GraphQL calls
    an ID). Its fields are read by name, so a resolver returns the dataclass's own instances."""
    hints = get_type_hints(source)
    annotations = {f.name: (types or {}).get(f.name, hints[f.name]) for f in dataclasses.fields(source)}
    described = {f.name: strawberry.field(description=f.metadata["description"])
                 for f in dataclasses.fields(source) if "description" in f.metadata}
    return strawberry.type(type(name, (), {"__annotations__": annotations, **described}), name=name,
                           description=_described(source.__doc__))


def record_input(spec: RecordSpec, name: str, description: str) -> type[Any]:
    """The input type of one record kind of the import format: a field per column, named in camelCase,
    of the column's value type, described by the column's description; required when a deletion must
    give it too, else optional."""
    annotations = {c.api_name: c.value_type if c.api_required else c.value_type | None for c in spec.columns}
    declared = {c.api_name: strawberry.field(name=c.api_name, description=c.description or None) if c.api_required
                else strawberry.field(name=c.api_name, default=None, description=c.description or None)
                for c in spec.columns}
    return strawberry.input(type(name, (), {"__annotations__": annotations, **declared}), name=name,
                            description=description)


def records_of(input_type: type[Any], description: str) -> StrawberryArgumentAnnotation:
    """The GraphQL type of an argument that is a list of `input_type`, for `Annotated[list[Any], ...]`."""
    return strawberry.argument(graphql_type=GenericAlias(list, (input_type,)),  # list[input_type]
                               description=description)
