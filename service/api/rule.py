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

# The rule language's enums are declared in service.segments.rules; this makes them GraphQL enums too,
# each value described here (graphql_enum refuses an enum with a value left out).
graphql_enum(Op, {
    "EQ": "Equal. Text: case-insensitive, trimmed; numbers: the same number.",
    "NEQ": "Not equal; passes on a missing value too (a person without a title is not equal to `cto`).",
    "GT": "Numbers only: greater than the operand.",
    "GTE": "Numbers only: greater than or equal to the operand.",
    "LT": "Numbers only: less than the operand.",
    "LTE": "Numbers only: less than or equal to the operand.",
    "IN": "Text only: equal (case-insensitive) to one of `values` (1 to 1,000 strings).",
    "CONTAINS": "Text only: contains the operand (case-insensitive).",
    "STARTS_WITH": "Text only: starts with the operand (case-insensitive).",
    "ENDS_WITH": "Text only: ends with the operand (case-insensitive).",
})
graphql_enum(PersonField, {
    "EMAIL": "The person's normalised email address.",
    "EMAIL_DOMAIN": "What follows the @ of the person's email (e.g. townsend.com).",
    "FIRST_NAME": "First name, as the source imported last gives it.",
    "LAST_NAME": "Last name, as the source imported last gives it.",
    "TITLE": "Job title, as the source imported last gives it.",
}, description="A property of the person that a `person` condition tests (a text test).")
graphql_enum(AccountField, {
    "NAME": "The account's name in its source (text).",
    "INDUSTRY": "The account's industry (text).",
    "COUNTRY": "The account's billing country (text, the import's BillingCountry).",
    "SOURCE": "The name of the source system the account comes from, e.g. `CRM 1` (text).",
    "WEBSITE": "The account's website (text).",
    "EMPLOYEES": "The account's number of employees (a number test, operand in `number`).",
}, description="A property of an account that an `account` condition tests.")
graphql_enum(AccountScope, {
    "ACCOUNT": "Only the accounts the person is associated with.",
    "COMPANY": "Every account of every company of the person's accounts, their own included (the default).",
    "FAMILY": "Every account of the person's companies and of all their subsidiaries, at any depth.",
    "ULTIMATE": "Every account of the whole corporate family, from the ultimate parent of each company down.",
})
graphql_enum(FamilyScope, {
    "COMPANY": "The company alone (the default).",
    "FAMILY": "The company and all its subsidiaries, at any depth.",
    "ULTIMATE": "The company's ultimate parent and every company under it.",
})
graphql_enum(Aggregate, {
    "SUM": "The sum of the deals' amounts (0 when there are none); the default.",
    "COUNT": "How many deals there are (0 when there are none).",
    "MAX": "The largest deal amount; no value, failing every comparison, when there are no deals.",
}, description="The company-wide figure an `opportunities` condition computes over the deals it takes, each once.")
graphql_enum(OpportunityStatus, {
    "WON": "Closed and won (isWon).",
    "LOST": "Closed and not won.",
    "OPEN": "Not closed.",
    "ANY": "Every deal, whatever its status.",
}, description="Which deals count, by their status.")
graphql_enum(UrlMatch, {
    "EXACT": "The visit's whole URL equals `url` (case-sensitive); the default.",
    "PREFIX": "The visit's URL starts with `url` (case-sensitive).",
    "PATTERN": "`url` with `*` wildcards (each any run of characters), matched against the whole URL.",
}, description="How a `visits` condition compares each visit's URL with its `url`.")
graphql_enum(Subject, {
    "PERSON": "A segment of people: the rule is a person rule and its members are people.",
    "COMPANY": "An account audience: the rule is a company rule and its members are companies.",
})


@strawberry.input(description="A test on the person.")
class PersonConditionInput:
    field: PersonField = strawberry.field(description="The property of the person to test.")
    op: Op = strawberry.field(description="The text test: EQ, NEQ, IN, CONTAINS, STARTS_WITH or ENDS_WITH.")
    value: str | None = strawberry.field(default=None, description=(
        "The operand of a text test other than IN: a non-empty string, trimmed, compared case-insensitively."))
    values: list[str] | None = strawberry.field(default=None, description=(
        "The operand of IN: 1 to 1,000 non-empty strings."))


@strawberry.input(description="A test on the person's accounts, or on any account of their companies.")
class AccountConditionInput:
    field: AccountField = strawberry.field(description="The property of the account to test.")
    op: Op = strawberry.field(description="A text test for the text fields, a number test for EMPLOYEES.")
    scope: AccountScope | None = strawberry.field(default=None, description=(
        "Which accounts are tested (default COMPANY); the condition passes when at least one of them passes."))
    value: str | None = strawberry.field(default=None, description=(
        "The operand of a text test other than IN: a non-empty string, trimmed, compared case-insensitively."))
    values: list[str] | None = strawberry.field(default=None, description=(
        "The operand of IN: 1 to 1,000 non-empty strings."))
    number: float | None = strawberry.field(default=None, description=(
        "The operand of a number test (EMPLOYEES): a finite number of employees."))


@strawberry.input(description="A company-wide aggregate over opportunities of all its accounts, each counted once.")
class OpportunityConditionInput:
    op: Op = strawberry.field(description="The number test on the figure: EQ, NEQ, GT, GTE, LT or LTE.")
    value: float = strawberry.field(description=(
        "The operand: a finite number, an amount in the deals' currency for SUM and MAX (amounts are added as "
        "imported, not converted), a number of deals for COUNT."))
    aggregate: Aggregate | None = strawberry.field(default=None, description="The figure computed (default SUM).")
    status: OpportunityStatus | None = strawberry.field(default=None, description=(
        "Which deals count, by status (default WON)."))
    stages: list[str] | None = strawberry.field(default=None, description=(
        "Only deals in one of these stage names count (exact, case-sensitive); 1 to 1,000 names."))
    closed_after: date | None = strawberry.field(default=None, description=(
        "Only deals with a close date on or after this day (ISO 8601 date, YYYY-MM-DD)."))
    closed_before: date | None = strawberry.field(default=None, description=(
        "Only deals with a close date before this day (ISO 8601 date, YYYY-MM-DD)."))
    closed_within_days: int | None = strawberry.field(default=None, description=(
        "Only deals closed in the last this many days, up to today (days, 1 to 3660; a future close date "
        "does not count)."))
    scope: FamilyScope | None = strawberry.field(default=None, description=(
        "Whose deals: COMPANY (default), FAMILY (the company and its subsidiaries, at any depth) or ULTIMATE "
        "(the ultimate parent and everything under it); each deal once."))


@strawberry.input(description="At least minCount visits to a URL, optionally in a time window.")
class VisitConditionInput:
    url: str = strawberry.field(description="The URL (or prefix, or pattern) each visit's URL is compared with.")
    match: UrlMatch | None = strawberry.field(default=None, description="How URLs are compared (default EXACT).")
    min_count: int | None = strawberry.field(default=None, description=(
        "At least this many matching visits (1 to 1,000,000; default 1)."))
    within_days: int | None = strawberry.field(default=None, description=(
        "Only visits at most this many days ago, from now to the second (days, 1 to 3660)."))
    after: datetime | None = strawberry.field(default=None, description=(
        "Only visits at or after this moment (ISO 8601 date-time; no zone is UTC)."))
    before: datetime | None = strawberry.field(default=None, description=(
        "Only visits before this moment (ISO 8601 date-time; no zone is UTC)."))


@strawberry.input(description="Membership of a campaign (optionally with a member status).")
class CampaignConditionInput:
    source: str = strawberry.field(description="The name of the source the campaign comes from, e.g. `Marketo 1`.")
    id: str = strawberry.field(description="The campaign's id in that source (compared exactly).")
    status: str | None = strawberry.field(default=None, description=(
        "Only members with this member status (case-insensitive, e.g. `attended` matches `Attended`)."))


@strawberry.input(description="Membership of a marketing list.")
class ListConditionInput:
    source: str = strawberry.field(description="The name of the source the list comes from, e.g. `Marketo 1`.")
    id: str = strawberry.field(description="The list's id in that source (compared exactly).")


@strawberry.input(description="A contact role (e.g. Decision Maker) on a deal of one of the person's companies, "
                              "optionally only on deals of a status (default ANY).")
class OpportunityRoleConditionInput:
    op: Op = strawberry.field(description="The text test on the contact role.")
    value: str | None = strawberry.field(default=None, description=(
        "The operand of a text test other than IN: a non-empty string, trimmed, compared case-insensitively."))
    values: list[str] | None = strawberry.field(default=None, description=(
        "The operand of IN: 1 to 1,000 non-empty strings."))
    status: OpportunityStatus | None = strawberry.field(default=None, description=(
        "Only roles on deals of this status (default ANY)."))


@strawberry.input(description="The person's role at one of their accounts (account-people), e.g. Decision Maker.")
class AccountRoleConditionInput:
    op: Op = strawberry.field(description="The text test on the role.")
    value: str | None = strawberry.field(default=None, description=(
        "The operand of a text test other than IN: a non-empty string, trimmed, compared case-insensitively."))
    values: list[str] | None = strawberry.field(default=None, description=(
        "The operand of IN: 1 to 1,000 non-empty strings."))


@strawberry.input(description=(
    "The buying group of one of the person's companies: every role in `roles` filled, at least `minRoles` of "
    "the configured roles (BUYING_GROUP_ROLES) filled, and at least `minEngaged` members who visited a page or "
    "responded to a campaign in the last `withinDays` days (default 30). Roles come from contact roles on the "
    "company's deals and from roles at its accounts, across all its linked accounts."))
class BuyingGroupConditionInput:
    roles: list[str] | None = strawberry.field(default=None, description=(
        "Every one of these roles is held in the group (1 to 1,000 role names, case and surrounding spaces aside)."))
    min_roles: int | None = strawberry.field(default=None, description=(
        "At least this many of the configured roles are held (0 to 100)."))
    min_engaged: int | None = strawberry.field(default=None, description=(
        "At least this many members are engaged in the window (0 to 10,000)."))
    within_days: int | None = strawberry.field(default=None, description=(
        "The engagement window in days back from now (1 to 3660; default 30)."))


@strawberry.input(description=(
    "Of a company (in an account audience's rule): at least minCount (default 1) of its people, over all its "
    "linked accounts, pass the person rule `where` (any person when none is given)."))
class PeopleConditionInput:
    min_count: int | None = strawberry.field(default=None, description=(
        "At least this many of the company's people pass `where` (default 1)."))
    where: RuleInput | None = strawberry.field(default=None, description=(
        "The person rule each of the company's people is tested with; any person when none is given."))


@strawberry.input(description=(
    "Membership of another saved segment or account audience. A person's rule naming an account audience: one "
    "of the person's companies is in it. A company's rule naming a person segment: one of its people is in it."))
class SegmentConditionInput:
    id: strawberry.ID = strawberry.field(description="The id of the saved segment or account audience.")


@strawberry.input(description="A rule: exactly one of and, or, not, or a condition.")
class RuleInput:
    and_: list[RuleInput] | None = strawberry.field(name="and", default=None, description=(
        "Passes when every rule of the list passes."))
    or_: list[RuleInput] | None = strawberry.field(name="or", default=None, description=(
        "Passes when at least one rule of the list passes."))
    not_: RuleInput | None = strawberry.field(name="not", default=None, description=(
        "Passes when this rule does not (a missing value then passes)."))
    person: PersonConditionInput | None = strawberry.field(default=None, description="A test on the person.")
    account: AccountConditionInput | None = strawberry.field(default=None, description=(
        "A test on the person's accounts or their companies' accounts."))
    opportunities: OpportunityConditionInput | None = strawberry.field(default=None, description=(
        "A company-wide figure over the deals of one of the person's companies."))
    visits: VisitConditionInput | None = strawberry.field(default=None, description="Web visits to a URL.")
    campaign: CampaignConditionInput | None = strawberry.field(default=None, description="Membership of a campaign.")
    list: ListConditionInput | None = strawberry.field(default=None, description="Membership of a marketing list.")
    opportunity_role: OpportunityRoleConditionInput | None = strawberry.field(default=None, description=(
        "A contact role on a deal of one of the person's companies."))
    account_role: AccountRoleConditionInput | None = strawberry.field(default=None, description=(
        "The person's role at one of their accounts."))
    buying_group: BuyingGroupConditionInput | None = strawberry.field(default=None, description=(
        "The buying group of one of the person's companies."))
    people: PeopleConditionInput | None = strawberry.field(default=None, description=(
        "In a company rule: how many of the company's people pass a person rule."))
    segment: SegmentConditionInput | None = strawberry.field(default=None, description=(
        "Membership of another saved segment or account audience."))


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
