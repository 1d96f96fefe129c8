"""GraphQL input types of the rule language, and the one road from them to the compiler.

A rule has one form that every entry shares: its JSON (service.segments.rules), stored with a
saved segment and taken by the CLI and rule files. `rule_data` turns a `RuleInput` into that JSON
generically (GraphQL field names, enum values, ISO dates; nothing per condition), and `parse_rule`
alone decides what a rule may be and builds the tree the compiler takes. These types only give
GraphQL clients the shape to write it in, with the parser's own enums.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from service.api.derived import graphql_enum
from service.segments.rules import (
    AccountField,
    AccountScope,
    Aggregate,
    FamilyScope,
    Op,
    OpportunityStatus,
    PersonField,
    UrlMatch,
)
from service.segments.rules import Subject as Subject  # segment.py and segment_mutation.py take it from here

# The rule language's enums are declared in service.segments.rules; this makes them GraphQL enums too.
for _enum in (Op, PersonField, AccountField, AccountScope, FamilyScope, Aggregate, OpportunityStatus, UrlMatch,
              Subject):
    graphql_enum(_enum)


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
    scope: FamilyScope | None = strawberry.field(default=None, description=(
        "Whose deals: COMPANY (default), FAMILY (the company and its subsidiaries, at any depth) or ULTIMATE "
        "(the ultimate parent and everything under it); each deal once."))


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


@strawberry.input(description="A contact role (e.g. Decision Maker) on a deal of one of the person's companies, "
                              "optionally only on deals of a status (default ANY).")
class OpportunityRoleConditionInput:
    op: Op
    value: str | None = None
    values: list[str] | None = None
    status: OpportunityStatus | None = None


@strawberry.input(description="The person's role at one of their accounts (account-people), e.g. Decision Maker.")
class AccountRoleConditionInput:
    op: Op
    value: str | None = None
    values: list[str] | None = None


@strawberry.input(description=(
    "The buying group of one of the person's companies: every role in `roles` filled, at least `minRoles` of "
    "the configured roles (BUYING_GROUP_ROLES) filled, and at least `minEngaged` members who visited a page or "
    "responded to a campaign in the last `withinDays` days (default 30). Roles come from contact roles on the "
    "company's deals and from roles at its accounts, across all its linked accounts."))
class BuyingGroupConditionInput:
    roles: list[str] | None = None
    min_roles: int | None = None
    min_engaged: int | None = None
    within_days: int | None = None


@strawberry.input(description=(
    "Of a company (in an account audience's rule): at least minCount (default 1) of its people, over all its "
    "linked accounts, pass the person rule `where` (any person when none is given)."))
class PeopleConditionInput:
    min_count: int | None = None
    where: RuleInput | None = None


@strawberry.input(description=(
    "Membership of another saved segment or account audience. A person's rule naming an account audience: one "
    "of the person's companies is in it. A company's rule naming a person segment: one of its people is in it."))
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
    opportunity_role: OpportunityRoleConditionInput | None = None
    account_role: AccountRoleConditionInput | None = None
    buying_group: BuyingGroupConditionInput | None = None
    people: PeopleConditionInput | None = None
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
