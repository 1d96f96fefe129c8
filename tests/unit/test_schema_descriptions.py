"""Every part of the GraphQL schema is described: each type, field, argument, input field, enum and
enum value the API publishes has a description (what it means, and its unit or format), so the
GraphiQL Docs panel and any client generator can tell a user what to send and what comes back.
Walks the schema's introspection, what GraphiQL and clients see, rebuilt as a schema (no Neo4j, no
server); GraphQL's own introspection types (__Schema, ...) and built-in scalars (String, Int, Float,
Boolean, ID) are not ours to describe."""

from __future__ import annotations

from enum import StrEnum

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    build_client_schema,
    get_named_type,
)
from graphql.type import specified_scalar_types

from service.api.derived import graphql_enum
from service.api.schema import schema


def _blank(description: str | None) -> bool:
    return not (description or "").strip()


def undescribed(graphql_schema: GraphQLSchema) -> list[str]:
    """The schema coordinates (Type, Type.field, Type.field(argument:), Enum.VALUE) with no description."""
    missing: list[str] = []
    for name, named in sorted(graphql_schema.type_map.items()):
        if name.startswith("__") or name in specified_scalar_types:
            continue
        if _blank(named.description):
            missing.append(name)
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, field in named.fields.items():
                if _blank(field.description):
                    missing.append(f"{name}.{field_name}")
                missing += [f"{name}.{field_name}({argument_name}:)" for argument_name, argument in field.args.items()
                            if _blank(argument.description)]
        elif isinstance(named, GraphQLInputObjectType):
            missing += [f"{name}.{field_name}" for field_name, field in named.fields.items()
                        if _blank(field.description)]
        elif isinstance(named, GraphQLEnumType):
            missing += [f"{name}.{value_name}" for value_name, value in named.values.items()
                        if _blank(value.description)]
        else:
            assert isinstance(named, (GraphQLScalarType, GraphQLUnionType)), named
    return missing


TEMPORAL = {"Date", "DateTime"}


def without_format(graphql_schema: GraphQLSchema) -> list[str]:
    """The fields, arguments and input fields of a date or date-time type whose description does not say
    the format (ISO 8601): a client must know what to send and what to parse."""
    missing: list[str] = []
    for name, named in sorted(graphql_schema.type_map.items()):
        if name.startswith("__") or not isinstance(named, (GraphQLObjectType, GraphQLInterfaceType,
                                                           GraphQLInputObjectType)):
            continue
        for field_name, field in named.fields.items():
            if get_named_type(field.type).name in TEMPORAL and "ISO 8601" not in (field.description or ""):
                missing.append(f"{name}.{field_name}")
            for argument_name, argument in getattr(field, "args", {}).items():
                if get_named_type(argument.type).name in TEMPORAL and "ISO 8601" not in (argument.description or ""):
                    missing.append(f"{name}.{field_name}({argument_name}:)")
    return missing


def parts(graphql_schema: GraphQLSchema) -> dict[str, int]:
    """How many parts of each kind the schema has (printed by the test, for the record)."""
    counts = {"types": 0, "fields": 0, "arguments": 0, "input fields": 0, "enum values": 0}
    for name, named in graphql_schema.type_map.items():
        if name.startswith("__") or name in specified_scalar_types:
            continue
        counts["types"] += 1
        if isinstance(named, (GraphQLObjectType, GraphQLInterfaceType)):
            counts["fields"] += len(named.fields)
            counts["arguments"] += sum(len(field.args) for field in named.fields.values())
        elif isinstance(named, GraphQLInputObjectType):
            counts["input fields"] += len(named.fields)
        elif isinstance(named, GraphQLEnumType):
            counts["enum values"] += len(named.values)
    return counts


def introspected() -> GraphQLSchema:
    """The schema as a client sees it: its introspection, rebuilt."""
    return build_client_schema(schema.introspect())  # type: ignore[arg-type]


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    graphql_schema = introspected()
    missing = undescribed(graphql_schema)
    print(parts(graphql_schema))
    assert not missing, f"{len(missing)} parts of the schema have no description:\n" + "\n".join(missing)


def test_every_date_and_date_time_says_its_format() -> None:
    missing = without_format(introspected())
    assert not missing, "dates and date-times whose description does not say ISO 8601:\n" + "\n".join(missing)


def test_the_check_sees_a_missing_description() -> None:
    """The walk is real: a schema with an undescribed type, field, argument and enum value is refused."""
    from graphql import build_schema

    bare = build_schema('''
        "A query." type Query { "A field." f(a: Int): E  g: Int }
        enum E { "one" ONE  TWO }
    ''')
    assert undescribed(bare) == ["E", "E.TWO", "Query.f(a:)", "Query.g"]

    dated = build_schema('''
        scalar DateTime
        type Query { "When, ISO 8601." a: DateTime  "When." b: DateTime  "Since." c(at: DateTime): Int }
    ''')
    assert without_format(dated) == ["Query.b", "Query.c(at:)"]


def test_graphql_enum_describes_each_value_and_refuses_one_left_out() -> None:
    class Colour(StrEnum):
        """A colour."""

        RED = "RED"
        BLUE = "BLUE"

    with pytest.raises(ValueError, match=r"Colour: no description for \['BLUE'\]"):
        graphql_enum(Colour, {"RED": "Red."})
    with pytest.raises(ValueError, match="descriptions of no value"):
        graphql_enum(Colour, {"RED": "Red.", "BLUE": "Blue.", "GREEN": "Green."})
    described = graphql_enum(Colour, {"RED": "Red.", "BLUE": "Blue."})
    definition = described.__strawberry_definition__  # type: ignore[attr-defined]
    assert definition.description == "A colour."
    assert {value.name: value.description for value in definition.values} == {"RED": "Red.", "BLUE": "Blue."}
