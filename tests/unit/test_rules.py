"""The rule parser: JSON in, a checked tree of conditions out, or a RuleError naming the wrong part."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from service.segments.rules import (
    MAX_DEPTH,
    MAX_NODES,
    AccountCondition,
    AccountRoleCondition,
    All,
    AnyOf,
    MembershipCondition,
    Not,
    NumberTest,
    OpportunityCondition,
    OpportunityRoleCondition,
    PersonCondition,
    RuleError,
    SegmentCondition,
    TextTest,
    VisitCondition,
    leaves,
    parse_rule,
    segment_reference_paths,
    segment_references,
)

NEW = "https://x.example/new"


def test_a_rule_parses_to_its_tree_with_values_trimmed_and_defaults_filled_in() -> None:
    rule = parse_rule({"and": [
        {"person": {"field": "EMAIL_DOMAIN", "op": "EQ", "value": " acme.example "}},
        {"not": {"account": {"field": "EMPLOYEES", "op": "LT", "number": 50}}},
        {"or": [{"visits": {"url": NEW, "withinDays": 30}},
                {"opportunities": {"op": "GTE", "value": 100_000, "closedAfter": "2026-01-01"}}]},
    ]})
    assert rule == All((
        PersonCondition("EMAIL_DOMAIN", TextTest("EQ", ("acme.example",))),
        Not(AccountCondition("COMPANY", "EMPLOYEES", NumberTest("LT", 50.0))),
        AnyOf((
            VisitCondition(url=NEW, match="EXACT", min_count=1, within_days=30, after=None, before=None),
            OpportunityCondition(aggregate="SUM", status="WON", stages=(), closed_after=date(2026, 1, 1),
                                 closed_before=None, closed_within_days=None, test=NumberTest("GTE", 100_000.0)),
        )),
    ))


def test_memberships_segments_and_text_lists_parse() -> None:
    assert parse_rule({"campaign": {"source": "Marketo 1", "id": "K1", "status": "Attended"}}) == \
        MembershipCondition("campaign", "Marketo 1", "K1", "Attended")
    assert parse_rule({"list": {"source": "Marketo 1", "id": "L1"}}) == \
        MembershipCondition("list", "Marketo 1", "L1", None)
    assert parse_rule({"segment": {"id": "s-1"}}) == SegmentCondition("s-1")
    assert parse_rule({"person": {"field": "TITLE", "op": "IN", "values": ["CTO", " CIO "]}}) == \
        PersonCondition("TITLE", TextTest("IN", ("CTO", "CIO")))


def test_role_conditions_parse_with_the_status_defaulting_to_any() -> None:
    assert parse_rule({"opportunityRole": {"op": "EQ", "value": " Decision Maker "}}) == \
        OpportunityRoleCondition("ANY", TextTest("EQ", ("Decision Maker",)))
    assert parse_rule({"opportunityRole": {"op": "IN", "values": ["A", "B"], "status": "OPEN"}}) == \
        OpportunityRoleCondition("OPEN", TextTest("IN", ("A", "B")))
    assert parse_rule({"accountRole": {"op": "CONTAINS", "value": "buyer"}}) == \
        AccountRoleCondition(TextTest("CONTAINS", ("buyer",)))


def test_a_moment_without_a_zone_is_utc_and_null_keys_count_as_absent() -> None:
    rule = parse_rule({"visits": {"url": NEW, "after": "2026-11-01T10:00:00", "before": None, "match": None}})
    assert isinstance(rule, VisitCondition)
    assert rule.after == datetime(2026, 11, 1, 10, tzinfo=UTC) and rule.before is None
    assert rule.match == "EXACT"
    assert parse_rule({"person": {"field": "EMAIL", "op": "EQ", "value": "a"}, "and": None}) == \
        PersonCondition("EMAIL", TextTest("EQ", ("a",)))


@pytest.mark.parametrize(("rule", "message"), [
    ({}, "rule: must have exactly one of and, or, not, person"),
    ([], "rule: must be an object with one of"),
    ({"nand": []}, "rule: unknown key 'nand'"),
    ({"and": []}, "and: must be a non-empty list"),
    ({"or": {}}, "or: must be a non-empty list"),
    ({"person": "EMAIL"}, "person: must be an object"),
    ({"person": {"field": "TITLE", "op": "GT", "value": "x"}}, "person.op: must be one of"),
    ({"person": {"field": "PHONE", "op": "EQ", "value": "x"}}, "person.field: must be one of"),
    ({"person": {"field": "EMAIL", "op": "IN"}}, "person.values: must be a list of 1 to 1000 strings"),
    ({"person": {"field": "EMAIL", "op": "EQ", "value": "a", "extra": 1}}, "person.extra: unknown key"),
    ({"person": {"field": "EMAIL", "op": "EQ", "value": "\ud800"}}, "person.value: must be valid Unicode text"),
    ({"account": {"field": "EMPLOYEES", "op": "GT"}}, "account.number: must be a finite number"),
    ({"account": {"field": "EMPLOYEES", "op": "GT", "number": True}}, "account.number: must be a finite number"),
    ({"account": {"field": "EMPLOYEES", "op": "GT", "number": float("inf")}},
     "account.number: must be a finite number"),
    ({"visits": {"url": NEW, "withinDays": 0}}, "visits.withinDays: must be a whole number from 1 to 3660"),
    ({"visits": {"url": NEW, "minCount": 1.5}}, "visits.minCount: must be a whole number from 1 to 1000000"),
    ({"visits": {"url": NEW, "after": "yesterday"}}, "visits.after: must be an ISO 8601 date-time"),
    ({"or": [{"visits": {"url": " "}}]}, "or[0].visits.url: must be a non-empty string"),
    ({"opportunities": {"op": "GT", "value": 1, "closedBefore": "2026-02-30"}},
     "opportunities.closedBefore: must be an ISO date (YYYY-MM-DD)"),
    ({"and": [{"opportunities": {"op": "GT", "value": 1}}, {"person": {"field": "EMAIL", "op": "IN"}}]},
     "and[1].person.values"),
    ({"not": {"not": {"list": {"source": "s"}}}}, "not.not.list.id: must be a non-empty string"),
    ({"and": [{"person": {"field": "EMAIL", "op": "EQ", "value": "a"}}],
      "or": [{"list": {"source": "s", "id": "i"}}]}, "rule: must have exactly one of"),
    ({"opportunityRole": {"op": "EQ"}}, "opportunityRole.value: must be a non-empty string"),
    ({"opportunityRole": {"op": "EQ", "value": "x", "status": "CLOSED"}},
     "opportunityRole.status: must be one of ANY, LOST, OPEN, WON"),
    ({"opportunityRole": {"op": "GT", "value": "x"}},
     "opportunityRole.op: must be one of CONTAINS, ENDS_WITH, EQ, IN, NEQ, STARTS_WITH"),
    ({"accountRole": {"op": "EQ", "value": "x", "status": "OPEN"}}, "accountRole.status: unknown key"),
    ({"and": [{"accountRole": {"op": "IN", "values": []}}]},
     "and[0].accountRole.values: must be a list of 1 to 1000 strings"),
    ({"opportunity_role": {"op": "EQ", "value": "x"}}, "rule: unknown key 'opportunity_role'"),
])
def test_an_invalid_rule_names_the_part_that_is_wrong(rule: Any, message: str) -> None:
    with pytest.raises(RuleError) as refused:
        parse_rule(rule)
    assert str(refused.value).startswith(message), str(refused.value)
    assert refused.value.path == message.split(":")[0].replace("rule", "", 1)


def test_a_rule_too_deep_or_too_large_is_refused() -> None:
    deep: dict[str, Any] = {"segment": {"id": "s"}}
    for _ in range(MAX_DEPTH + 1):
        deep = {"not": deep}
    with pytest.raises(RuleError, match=f"at most {MAX_DEPTH} levels"):
        parse_rule(deep)
    wide = {"or": [{"segment": {"id": str(n)}} for n in range(MAX_NODES)]}
    with pytest.raises(RuleError, match=f"at most {MAX_NODES} parts"):
        parse_rule(wide)


def test_the_saved_segments_and_leaves_of_a_rule_are_found_with_their_paths() -> None:
    rule = parse_rule({"and": [{"segment": {"id": "a"}}, {"not": {"or": [{"segment": {"id": "b"}}, {"list": {
        "source": "s", "id": "l"}}]}}]})
    assert segment_references(rule) == {"a", "b"}
    assert segment_reference_paths(rule) == [("and[0].segment.id", "a"), ("and[1].not.or[0].segment.id", "b")]
    assert leaves(rule) == [SegmentCondition("a"), SegmentCondition("b"), MembershipCondition("list", "s", "l", None)]
