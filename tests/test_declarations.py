"""Each declaration is written once and GraphQL derives its types from it (no Neo4j needed)."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from enum import Enum

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType

from service.activation import activate
from service.api.schema import schema
from service.ingest import specs
from service.realtime.broker import AudienceChange
from service.segments import rules

GRAPHQL_SCALARS = {str: "String", bool: "Boolean", int: "Int", float: "Float", date: "Date", datetime: "DateTime"}
INPUTS = {"PersonInput": specs.PEOPLE, "AccountInput": specs.ACCOUNTS, "AccountPersonInput": specs.ACCOUNT_PEOPLE,
          "OpportunityInput": specs.OPPORTUNITIES, "WebVisitInput": specs.WEB_VISITS,
          "SameCompanyLinkInput": specs.SAME_COMPANY}


def test_the_graphql_enums_are_the_python_enums_of_the_lower_layers() -> None:
    enums: list[type[Enum]] = [rules.Op, rules.PersonField, rules.AccountField, rules.AccountScope, rules.FamilyScope,
                               rules.Aggregate, rules.OpportunityStatus, rules.UrlMatch, activate.DestinationKind,
                               activate.DeliveryMode]
    for enum in enums:
        graphql = schema._schema.type_map[enum.__name__]
        assert isinstance(graphql, GraphQLEnumType)
        assert list(graphql.values) == [member.name for member in enum]
        assert {value.value for value in graphql.values.values()} == set(enum)
    assert set(rules.PERSON_FIELDS) == set(rules.PersonField)
    assert set(rules.ACCOUNT_TEXT_FIELDS) | set(rules.ACCOUNT_NUMBER_FIELDS) == set(rules.AccountField)


def test_each_upsert_input_has_the_columns_of_its_record_kind() -> None:
    for name, spec in INPUTS.items():
        graphql = schema._schema.type_map[name]
        assert isinstance(graphql, GraphQLInputObjectType)
        expected = {column.api_name: GRAPHQL_SCALARS[column.value_type] + ("!" if column.api_required else "")
                    for column in spec.columns}
        assert {field: str(value.type) for field, value in graphql.fields.items()} == expected
    assert specs.PEOPLE.api_name_of("AdvertisingOptOut") == "advertisingOptOut"
    assert specs.SAME_COMPANY.api_name_of("AccountIdA") == "accountIdA"
    assert specs.PEOPLE.api_name_of("-") == "-"


def test_the_audience_change_type_has_the_fields_of_the_broker_dataclass() -> None:
    graphql = schema._schema.type_map["AudienceChange"]
    assert isinstance(graphql, GraphQLObjectType)
    assert list(graphql.fields) == [schema.config.name_converter.apply_naming_config(f.name)
                                    for f in dataclasses.fields(AudienceChange)]
    assert str(graphql.fields["segmentId"].type) == "ID!"
    assert graphql.fields["change"].description == "ENTERED or LEFT."
