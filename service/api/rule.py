"""GraphQL input types of the rule language; `rule_data` turns them into the rule JSON."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.utils.str_converters import to_camel_case


@strawberry.enum(description="Comparisons: EQ, NEQ, GT, GTE, LT, LTE for numbers; "
                             "EQ, NEQ, IN, CONTAINS, STARTS_WITH, ENDS_WITH for text (case-insensitive).")
class Op(Enum):
    EQ = "EQ"
    NEQ = "NEQ"
    GT = "GT"
    GTE = "GTE"
    LT = "LT"
    LTE = "LTE"
    IN = "IN"
    CONTAINS = "CONTAINS"
    STARTS_WITH = "STARTS_WITH"
    ENDS_WITH = "ENDS_WITH"


@strawberry.enum
class PersonField(Enum):
    EMAIL = "EMAIL"
    EMAIL_DOMAIN = "EMAIL_DOMAIN"
    FIRST_NAME = "FIRST_NAME"
    LAST_NAME = "LAST_NAME"
    TITLE = "TITLE"


@strawberry.enum
class AccountField(Enum):
    NAME = "NAME"
    INDUSTRY = "INDUSTRY"
    COUNTRY = "COUNTRY"
    SOURCE = "SOURCE"
    WEBSITE = "WEBSITE"
    EMPLOYEES = "EMPLOYEES"


@strawberry.enum(description="ACCOUNT: the person's own accounts; COMPANY: every account of their companies.")
class AccountScope(Enum):
    ACCOUNT = "ACCOUNT"
    COMPANY = "COMPANY"


@strawberry.enum
class Aggregate(Enum):
    SUM = "SUM"
    COUNT = "COUNT"
    MAX = "MAX"


@strawberry.enum
class OpportunityStatus(Enum):
    WON = "WON"
    LOST = "LOST"
    OPEN = "OPEN"
    ANY = "ANY"


@strawberry.enum(description="EXACT url, url PREFIX, or PATTERN with * wildcards.")
class UrlMatch(Enum):
    EXACT = "EXACT"
    PREFIX = "PREFIX"
    PATTERN = "PATTERN"


@strawberry.input(description="A test on the person.")
class PersonConditionInput:
    field: PersonField
    op: Op
    value: str | None = None
    values: list[str] | None = None


@strawberry.input(description="A test on the person's accounts, or on any account of their companies.")
class AccountConditionInput:
    field: AccountField
    op: Op
    scope: AccountScope | None = None
    value: str | None = None
    values: list[str] | None = None
    number: float | None = None


@strawberry.input(description="A company-wide aggregate over opportunities of all its accounts, each counted once.")
class OpportunityConditionInput:
    op: Op
    value: float
    aggregate: Aggregate | None = None
    status: OpportunityStatus | None = None
    stages: list[str] | None = None
    closed_after: date | None = None
    closed_before: date | None = None
    closed_within_days: int | None = None


@strawberry.input(description="At least minCount visits to a URL, optionally in a time window.")
class VisitConditionInput:
    url: str
    match: UrlMatch | None = None
    min_count: int | None = None
    within_days: int | None = None
    after: datetime | None = None
    before: datetime | None = None


@strawberry.input(description="Membership of a campaign (optionally with a member status).")
class CampaignConditionInput:
    source: str
    id: str
    status: str | None = None


@strawberry.input(description="Membership of a marketing list.")
class ListConditionInput:
    source: str
    id: str


@strawberry.input(description="Membership of another saved segment.")
class SegmentConditionInput:
    id: strawberry.ID


@strawberry.input(description="A rule: exactly one of and, or, not, or a condition.")
class RuleInput:
    and_: list[RuleInput] | None = strawberry.field(name="and", default=None)
    or_: list[RuleInput] | None = strawberry.field(name="or", default=None)
    not_: RuleInput | None = strawberry.field(name="not", default=None)
    person: PersonConditionInput | None = None
    account: AccountConditionInput | None = None
    opportunities: OpportunityConditionInput | None = None
    visits: VisitConditionInput | None = None
    campaign: CampaignConditionInput | None = None
    list: ListConditionInput | None = None
    segment: SegmentConditionInput | None = None


def rule_data(value: Any) -> Any:
    """A rule input as its JSON: GraphQL field names, enum names, ISO dates; nulls left out."""
    if dataclasses.is_dataclass(value):
        return {
            _graphql_name(f): rule_data(getattr(value, f.name))
            for f in dataclasses.fields(value) if getattr(value, f.name) is not None
        }
    if isinstance(value, list):
        return [rule_data(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def _graphql_name(f: dataclasses.Field[Any]) -> str:
    return f.name.rstrip("_") if f.name.endswith("_") else to_camel_case(f.name)
