"""The rule language: a tree of AND / OR / NOT over leaf conditions, parsed from JSON.

The JSON is the one form of a rule: what is stored, what the CLI and files hold, and what the
GraphQL `RuleInput` is turned into (camelCase keys, enum names as strings; service.api.rule). The
enums below are declared here only; GraphQL wraps them. Parsing checks every part and names the
part that is wrong (`and[1].visits.withinDays`), before anything reaches Cypher.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from service.errors import AccountGraphError, ErrorCode
from service.text import valid_unicode

MAX_DEPTH = 12
MAX_NODES = 200
MAX_TEXT = 2048
MAX_VALUES = 1000
MAX_DAYS = 3660


class Op(StrEnum):
    """Comparisons: EQ, NEQ, GT, GTE, LT, LTE for numbers; EQ, NEQ, IN, CONTAINS, STARTS_WITH, ENDS_WITH
    for text (case-insensitive)."""

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


class PersonField(StrEnum):
    EMAIL = "EMAIL"
    EMAIL_DOMAIN = "EMAIL_DOMAIN"
    FIRST_NAME = "FIRST_NAME"
    LAST_NAME = "LAST_NAME"
    TITLE = "TITLE"


class AccountField(StrEnum):
    NAME = "NAME"
    INDUSTRY = "INDUSTRY"
    COUNTRY = "COUNTRY"
    SOURCE = "SOURCE"
    WEBSITE = "WEBSITE"
    EMPLOYEES = "EMPLOYEES"


class Subject(StrEnum):
    """What a saved rule selects: PERSON (a segment of people) or COMPANY (an account audience)."""

    PERSON = "PERSON"
    COMPANY = "COMPANY"


class AccountScope(StrEnum):
    """ACCOUNT: the person's own accounts; COMPANY: every account of their companies; FAMILY: every
    account of their companies and of all their subsidiaries, at any depth; ULTIMATE: every account of
    the whole corporate family, from the ultimate parent of each of their companies down."""

    ACCOUNT = "ACCOUNT"
    COMPANY = "COMPANY"
    FAMILY = "FAMILY"
    ULTIMATE = "ULTIMATE"


class FamilyScope(StrEnum):
    """Which companies a company figure adds up: COMPANY: the company alone; FAMILY: the company and all
    its subsidiaries, at any depth; ULTIMATE: its ultimate parent and everything under it."""

    COMPANY = "COMPANY"
    FAMILY = "FAMILY"
    ULTIMATE = "ULTIMATE"


class Aggregate(StrEnum):
    SUM = "SUM"
    COUNT = "COUNT"
    MAX = "MAX"


class OpportunityStatus(StrEnum):
    WON = "WON"
    LOST = "LOST"
    OPEN = "OPEN"
    ANY = "ANY"


class UrlMatch(StrEnum):
    """EXACT url, url PREFIX, or PATTERN with * wildcards."""

    EXACT = "EXACT"
    PREFIX = "PREFIX"
    PATTERN = "PATTERN"


# The graph property each field tests.
PERSON_FIELDS: dict[str, str] = {
    PersonField.EMAIL: "email", PersonField.EMAIL_DOMAIN: "email", PersonField.FIRST_NAME: "firstName",
    PersonField.LAST_NAME: "lastName", PersonField.TITLE: "title",
}
ACCOUNT_TEXT_FIELDS: dict[str, str] = {
    AccountField.NAME: "name", AccountField.INDUSTRY: "industry", AccountField.COUNTRY: "country",
    AccountField.SOURCE: "source", AccountField.WEBSITE: "website",
}
ACCOUNT_NUMBER_FIELDS: dict[str, str] = {AccountField.EMPLOYEES: "employees"}
TEXT_OPS = frozenset({Op.EQ, Op.NEQ, Op.IN, Op.CONTAINS, Op.STARTS_WITH, Op.ENDS_WITH})
NUMBER_OPS = frozenset({Op.EQ, Op.NEQ, Op.GT, Op.GTE, Op.LT, Op.LTE})
AGGREGATES = frozenset(Aggregate)
OPPORTUNITY_STATUSES = frozenset(OpportunityStatus)
SCOPES = frozenset(AccountScope)
FAMILY_SCOPES = frozenset(FamilyScope)
URL_MATCHES = frozenset(UrlMatch)


class RuleError(AccountGraphError, ValueError):
    """An invalid rule; the message starts with the path of the wrong part."""

    default_code = ErrorCode.RULE_INVALID

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path or 'rule'}: {message}")


@dataclass(frozen=True)
class TextTest:
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class NumberTest:
    op: str
    number: float


@dataclass(frozen=True)
class PersonCondition:
    field: str
    test: TextTest


@dataclass(frozen=True)
class AccountCondition:
    scope: str
    field: str
    test: TextTest | NumberTest


@dataclass(frozen=True)
class OpportunityCondition:
    aggregate: str
    status: str
    stages: tuple[str, ...]
    closed_after: date | None
    closed_before: date | None
    closed_within_days: int | None
    test: NumberTest
    scope: str = FamilyScope.COMPANY  # the companies whose deals the figure adds up (FamilyScope)


@dataclass(frozen=True)
class VisitCondition:
    url: str
    match: str
    min_count: int
    within_days: int | None
    after: datetime | None
    before: datetime | None


@dataclass(frozen=True)
class MembershipCondition:
    kind: str  # "campaign" or "list"
    source: str
    key: str
    status: str | None


@dataclass(frozen=True)
class OpportunityRoleCondition:
    """A contact role (CONTACT_FOR.role) of the person on an opportunity of one of their companies."""

    status: str
    test: TextTest


@dataclass(frozen=True)
class AccountRoleCondition:
    """The person's role at one of their accounts (ASSOCIATED_WITH.role)."""

    test: TextTest


@dataclass(frozen=True)
class BuyingGroupCondition:
    """The buying group of one of the person's companies (service.segments.buying_group): each of
    `roles` filled, at least `min_roles` of the configured roles filled, and at least `min_engaged`
    of its members engaged (a web visit, or a campaign response) in the last `within_days` days."""

    roles: tuple[str, ...]
    min_roles: int
    min_engaged: int
    within_days: int


@dataclass(frozen=True)
class PeopleCondition:
    """Of a company: at least `min_count` of its people (over all its linked accounts) pass the
    person rule `where` (any person when there is none)."""

    min_count: int
    where: Rule | None


@dataclass(frozen=True)
class SegmentCondition:
    """Membership of another saved rule. Across subjects: a person is in an account audience when one
    of their companies is; a company is in a person segment when one of its people is."""

    segment_id: str


@dataclass(frozen=True)
class All:
    parts: tuple[Rule, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Rule, ...]


@dataclass(frozen=True)
class Not:
    part: Rule


Leaf = (PersonCondition | AccountCondition | OpportunityCondition | VisitCondition | MembershipCondition
        | OpportunityRoleCondition | AccountRoleCondition | BuyingGroupCondition | PeopleCondition
        | SegmentCondition)
Rule = All | AnyOf | Not | Leaf

COMBINATORS = ("and", "or", "not")
LEAVES = ("person", "account", "opportunities", "visits", "campaign", "list", "opportunityRole", "accountRole",
          "buyingGroup", "people", "segment")
# The conditions each subject's rules may use; a company's people are reached through `people`.
SUBJECT_LEAVES: dict[str, tuple[str, ...]] = {
    Subject.PERSON: tuple(leaf for leaf in LEAVES if leaf != "people"),
    Subject.COMPANY: ("account", "opportunities", "buyingGroup", "people", "segment"),
}
ENGAGEMENT_DAYS = 30  # a buying group's engagement window unless the rule says otherwise


class _Parser:
    def __init__(self, subject: str) -> None:
        self.nodes = 0
        self.subject = subject
        self.depth = 0  # of the condition being parsed (a `people` condition's rule nests below it)

    def rule(self, data: Any, path: str, depth: int) -> Rule:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise RuleError(path, f"a rule may have at most {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise RuleError(path, f"a rule may nest at most {MAX_DEPTH} levels")
        if not isinstance(data, dict):
            raise RuleError(path, "must be an object with one of " + ", ".join(COMBINATORS + LEAVES))
        given = [key for key, value in data.items() if value is not None]
        unknown = [key for key in given if key not in COMBINATORS + LEAVES]
        if unknown:
            raise RuleError(path, f"unknown key {unknown[0]!r}; expected one of {', '.join(COMBINATORS + LEAVES)}")
        if len(given) != 1:
            raise RuleError(path, f"must have exactly one of {', '.join(COMBINATORS + LEAVES)} (has {len(given)})")
        key = given[0]
        value = data[key]
        here = f"{path}.{key}" if path else key
        if key in ("and", "or"):
            if not isinstance(value, list) or not value:
                raise RuleError(here, "must be a non-empty list of rules")
            parts = tuple(self.rule(part, f"{here}[{index}]", depth + 1) for index, part in enumerate(value))
            return All(parts) if key == "and" else AnyOf(parts)
        if key == "not":
            return Not(self.rule(value, here, depth + 1))
        if not isinstance(value, dict):
            raise RuleError(here, "must be an object")
        allowed = SUBJECT_LEAVES[self.subject]
        if key not in allowed:
            subject = self.subject.lower()
            raise RuleError(here, f"is not a condition on a {subject}; those are {', '.join(allowed)}")
        self.depth = depth
        parse_condition: Callable[[_Fields], Rule] = getattr(self, "_" + _snake_case(key))
        return parse_condition(_Fields(value, here))

    def _person(self, f: _Fields) -> PersonCondition:
        field = f.choice("field", PERSON_FIELDS)
        return PersonCondition(field, f.text_test())

    def _account(self, f: _Fields) -> AccountCondition:
        scope = f.choice("scope", SCOPES, default="COMPANY")
        if self.subject == Subject.COMPANY and scope == AccountScope.ACCOUNT:
            raise f.error("scope", "ACCOUNT is a person's own accounts: a company's rule tests all its accounts")
        field = f.choice("field", {**ACCOUNT_TEXT_FIELDS, **ACCOUNT_NUMBER_FIELDS})
        test = f.number_test() if field in ACCOUNT_NUMBER_FIELDS else f.text_test()
        return AccountCondition(scope, field, test)

    def _opportunities(self, f: _Fields) -> OpportunityCondition:
        condition = OpportunityCondition(
            aggregate=f.choice("aggregate", AGGREGATES, default="SUM"),
            status=f.choice("status", OPPORTUNITY_STATUSES, default="WON"),
            stages=f.texts("stages", required=False),
            closed_after=f.date("closedAfter"),
            closed_before=f.date("closedBefore"),
            closed_within_days=f.days("closedWithinDays"),
            test=f.number_test(key="value"),
            scope=f.choice("scope", FAMILY_SCOPES, default="COMPANY"),
        )
        f.done()
        return condition

    def _visits(self, f: _Fields) -> VisitCondition:
        condition = VisitCondition(
            url=f.text("url"),
            match=f.choice("match", URL_MATCHES, default="EXACT"),
            min_count=f.integer("minCount", default=1, low=1, high=1_000_000),
            within_days=f.days("withinDays"),
            after=f.moment("after"),
            before=f.moment("before"),
        )
        f.done()
        return condition

    def _campaign(self, f: _Fields) -> MembershipCondition:
        condition = MembershipCondition("campaign", f.text("source"), f.text("id"), f.optional_text("status"))
        f.done()
        return condition

    def _list(self, f: _Fields) -> MembershipCondition:
        condition = MembershipCondition("list", f.text("source"), f.text("id"), None)
        f.done()
        return condition

    def _opportunity_role(self, f: _Fields) -> OpportunityRoleCondition:
        status = f.choice("status", OPPORTUNITY_STATUSES, default="ANY")
        return OpportunityRoleCondition(status, f.text_test())

    def _account_role(self, f: _Fields) -> AccountRoleCondition:
        return AccountRoleCondition(f.text_test())

    def _buying_group(self, f: _Fields) -> BuyingGroupCondition:
        condition = BuyingGroupCondition(
            roles=f.texts("roles", required=False),
            min_roles=f.integer("minRoles", default=0, low=0, high=100),
            min_engaged=f.integer("minEngaged", default=0, low=0, high=10_000),
            within_days=f.days("withinDays") or ENGAGEMENT_DAYS,
        )
        f.done()
        if not (condition.roles or condition.min_roles or condition.min_engaged):
            raise RuleError(f.path, "must ask for something: roles, minRoles or minEngaged")
        return condition

    def _people(self, f: _Fields) -> PeopleCondition:
        min_count = f.integer("minCount", default=1, low=1, high=1_000_000)
        where = f.data.get("where")
        f.read.add("where")
        f.done()
        if where is None:
            return PeopleCondition(min_count, None)
        subject, self.subject = self.subject, Subject.PERSON
        try:
            return PeopleCondition(min_count, self.rule(where, f"{f.path}.where", self.depth + 1))
        finally:
            self.subject = subject

    def _segment(self, f: _Fields) -> SegmentCondition:
        condition = SegmentCondition(f.text("id"))
        f.done()
        return condition


def _snake_case(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()


class _Fields:
    """Typed access to one condition's keys; every key must be read, so a typo is an error."""

    def __init__(self, data: dict[str, Any], path: str) -> None:
        self.data = {k: v for k, v in data.items() if v is not None}
        self.path = path
        self.read: set[str] = set()

    def _get(self, key: str) -> Any:
        self.read.add(key)
        return self.data.get(key)

    def error(self, key: str, message: str) -> RuleError:
        return RuleError(f"{self.path}.{key}", message)

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.read)
        if unknown:
            raise self.error(unknown[0], "unknown key")

    def choice(self, key: str, allowed: Any, default: str | None = None) -> str:
        value = self._get(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, str) or value not in allowed:  # a list or an object is not hashable
            raise self.error(key, f"must be one of {', '.join(sorted(allowed))}")
        return value

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "must be a non-empty string")
        if len(value) > MAX_TEXT:
            raise self.error(key, f"may have at most {MAX_TEXT} characters")
        if not valid_unicode(value):
            raise self.error(key, "must be valid Unicode text (no lone surrogates)")
        return value.strip()

    def optional_text(self, key: str) -> str | None:
        return self.text(key) if self.data.get(key) is not None else self._get(key)

    def texts(self, key: str, required: bool = True) -> tuple[str, ...]:
        values = self._get(key)
        if values is None and not required:
            return ()
        if not isinstance(values, list) or not values or len(values) > MAX_VALUES:
            raise self.error(key, f"must be a list of 1 to {MAX_VALUES} strings")
        if not all(isinstance(v, str) and v.strip() and len(v) <= MAX_TEXT and valid_unicode(v) for v in values):
            raise self.error(key, "must hold only non-empty strings of valid Unicode text")
        return tuple(v.strip() for v in values)

    def number(self, key: str) -> float:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.error(key, "must be a finite number")
        return float(value)

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.error(key, f"must be a whole number from {low} to {high}")
        return value

    def days(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.integer(key, 0, 1, MAX_DAYS)

    def date(self, key: str) -> date | None:
        value = self._get(key)
        if value is None:
            return None
        try:
            return value if isinstance(value, date) else date.fromisoformat(value)
        except (TypeError, ValueError):
            raise self.error(key, "must be an ISO date (YYYY-MM-DD)") from None

    def moment(self, key: str) -> datetime | None:
        value = self._get(key)
        if value is None:
            return None
        try:
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise self.error(key, "must be an ISO 8601 date-time") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def text_test(self) -> TextTest:
        op = self.choice("op", TEXT_OPS)
        if op == "IN":
            test = TextTest(op, self.texts("values"))
        else:
            test = TextTest(op, (self.text("value"),))
        self.done()
        return test

    def number_test(self, key: str = "number") -> NumberTest:
        op = self.choice("op", NUMBER_OPS)
        test = NumberTest(op, self.number(key))
        if key == "number":
            self.done()
        return test


def parse_rule(data: Any, subject: str = Subject.PERSON) -> Rule:
    """Parse and check a rule on a person or a company; raise RuleError naming the wrong part."""
    return _Parser(subject).rule(data, "", 0)


def _parts(rule: Rule) -> tuple[tuple[str, Rule], ...]:
    """The rules directly inside a rule, each with its key in the parser's paths."""
    if isinstance(rule, (All, AnyOf)):
        key = "and" if isinstance(rule, All) else "or"
        return tuple((f"{key}[{index}]", part) for index, part in enumerate(rule.parts))
    if isinstance(rule, Not):
        return (("not", rule.part),)
    if isinstance(rule, PeopleCondition) and rule.where is not None:
        return (("people.where", rule.where),)
    return ()


def segment_references(rule: Rule) -> set[str]:
    """The ids of the saved segments a rule builds on."""
    return {segment_id for _, segment_id in segment_reference_paths(rule)}


def segment_reference_paths(rule: Rule, path: str = "") -> list[tuple[str, str]]:
    """(path of the id, id) of each saved segment a rule names, with the parser's paths (`and[1].segment.id`)."""
    def at(key: str) -> str:
        return f"{path}.{key}" if path else key

    if isinstance(rule, SegmentCondition):
        return [(at("segment.id"), rule.segment_id)]
    return [found for key, part in _parts(rule) for found in segment_reference_paths(part, at(key))]


def leaves(rule: Rule) -> list[Leaf]:
    """The conditions of a rule, those on a company's people included (not looking into referenced segments)."""
    inner = [leaf for _, part in _parts(rule) for leaf in leaves(part)]
    return inner if isinstance(rule, (All, AnyOf, Not)) else [rule, *inner]
