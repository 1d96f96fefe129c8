"""The rule compiler's output: the Cypher text it writes and the parameters the values travel in."""

from __future__ import annotations

from typing import Any

import pytest

from service.segments.compiler import SCAN_ANCHOR, Compiled, SavedRule, compile_rule, glob_to_regex
from service.segments.rules import Rule, RuleError, Subject, parse_rule

# Each hostile value carries a mark no Cypher the compiler writes holds ("$r0" alone is in the text anyway).
MARK = "\u2042"
HOSTILE = [MARK + text for text in (
    "' OR 1=1 //", "`) DETACH DELETE n //", "\"}) MATCH (n) DETACH DELETE n RETURN 1 //", "$r0",
    "*/ MATCH (n) DETACH DELETE n /*", "ann@acme.example' OR 'a'='a",
)]


def no_saved_segments(segment_id: str) -> Rule:
    raise RuleError("segment.id", f"no saved segment with id {segment_id!r}")


def compiled(rule: dict[str, Any]) -> Compiled:
    return compile_rule(parse_rule(rule), no_saved_segments)


def texts(result: Compiled) -> list[str]:
    return [result.predicate, result.anchor, result.residual, *result.evidence]


def test_a_person_condition_compiles_to_a_case_insensitive_test_on_a_parameter() -> None:
    result = compiled({"person": {"field": "EMAIL", "op": "EQ", "value": " Ann@Acme.example "}})
    assert result.predicate == "coalesce(toLower(p.email) = $r0, false)"
    assert result.anchor == SCAN_ANCHOR
    assert result.residual == "coalesce(toLower(p.email) = $r2, false)"
    assert result.parameters == {"r0": "ann@acme.example", "r1": "person", "r2": "ann@acme.example"}
    assert result.evidence == ["{path: $r1, kind: 'person', matched: coalesce(toLower(p.email) = $r0, false), "
                               "companies: [], accounts: [], visits: [], memberships: [], contactRoles: [], "
                               "people: [], peopleCount: 0}"]


def test_not_equal_passes_a_missing_value_and_the_email_domain_is_split_off() -> None:
    assert compiled({"person": {"field": "TITLE", "op": "NEQ", "value": "CTO"}}).predicate == \
        "(p.title IS NULL OR toLower(p.title) <> $r0)"
    assert compiled({"person": {"field": "EMAIL_DOMAIN", "op": "IN", "values": ["A.example", "b.example"]}}).predicate \
        == "coalesce(toLower(split(p.email, '@')[1]) IN $r0, false)"


def test_not_and_account_scope_compile_as_written() -> None:
    result = compiled({"not": {"account": {"scope": "ACCOUNT", "field": "EMPLOYEES", "op": "GTE", "number": 500}}})
    assert result.predicate == \
        "(NOT EXISTS { MATCH (p)-[:ASSOCIATED_WITH]->(a:Account) WHERE coalesce(a.employees >= $r0, false) })"
    assert result.anchor == SCAN_ANCHOR
    assert result.parameters == {"r0": 500.0, "r1": "not.account", "r2": 500.0}


def test_a_visit_and_a_company_total_anchor_on_the_visits_and_test_the_held_total_per_candidate() -> None:
    result = compiled({"and": [{"opportunities": {"op": "GT", "value": 100_000}},
                               {"visits": {"url": "https://x.example/new", "withinDays": 30}}]})
    assert result.anchor == (
        "MATCH (v:WebVisit) WHERE v.url = $r7 AND v.visitedAt <= datetime() "
        "AND v.visitedAt >= datetime() - duration({days: $r8}) "
        "MATCH (p:Person)-[:VISITED]->(v) WITH DISTINCT p RETURN p")
    # the company's own figure, read for each candidate: no deal summed now, no grouping by company
    assert result.residual == ("(EXISTS { MATCH (p)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->(c:Company) "
                               "WHERE coalesce(c.wonSum > $r9, false) })")
    assert {name: result.parameters[name] for name in ("r7", "r8", "r9")} == {
        "r7": "https://x.example/new", "r8": 30, "r9": 100_000.0}
    assert [e.split(",")[1] for e in result.evidence] == [" kind: 'opportunities'", " kind: 'visits'"]


def test_a_visit_and_a_filtered_company_total_group_the_candidates_by_company_and_sum_each_once() -> None:
    result = compiled({"and": [{"opportunities": {"op": "GT", "value": 100_000, "closedWithinDays": 90}},
                               {"visits": {"url": "https://x.example/new", "withinDays": 30}}]})
    assert "WITH DISTINCT p MATCH (p)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->(c:Company) " \
           "WITH c, collect(DISTINCT p) AS people WHERE coalesce(reduce(total = 0.0" in result.anchor
    assert result.residual == "true"


def test_a_pattern_travels_as_its_compiled_regular_expression() -> None:
    result = compiled({"or": [{"campaign": {"source": "Marketo 1", "id": "K1", "status": "Attended"}},
                              {"visits": {"url": "https://x.example/*a*", "match": "PATTERN"}}]})
    assert result.predicate == (
        "(EXISTS { MATCH (p)-[m:MEMBER_OF]->(x:Campaign {source: $r0, sourceKey: $r1}) WHERE toLower(m.status) = $r2 }"
        " OR COUNT { MATCH (p)-[:VISITED]->(v:WebVisit) WHERE v.url =~ $r4 AND v.visitedAt <= datetime() } >= $r5)")
    assert result.parameters["r4"] == glob_to_regex("https://x.example/*a*") == r"^https://x\.example/(?>.*?a).*$"
    assert result.parameters["r2"] == "attended"


def test_render_fills_the_template_slots() -> None:
    result = compiled({"person": {"field": "EMAIL", "op": "EQ", "value": "a@b.c"}})
    template = "CALL { /*ANCHOR*/ } WITH p WHERE /*RESIDUAL*/ RETURN p, [/*EVIDENCE*/] AS why, /*PREDICATE*/ AS all"
    assert result.fill(template) == (
        f"CALL {{ {SCAN_ANCHOR} }} WITH p WHERE coalesce(toLower(p.email) = $r2, false) "
        f"RETURN p, [{result.evidence[0]}] AS why, coalesce(toLower(p.email) = $r0, false) AS all")


def test_saved_segments_are_inlined_and_may_not_refer_to_themselves() -> None:
    saved = {"vip": SavedRule(Subject.PERSON, parse_rule({"list": {"source": "s", "id": "L1"}})),
             "loop": SavedRule(Subject.PERSON, parse_rule({"segment": {"id": "loop"}}))}
    result = compile_rule(parse_rule({"segment": {"id": "vip"}}), saved.__getitem__)
    assert result.predicate == "EXISTS { MATCH (p)-[m:ON_LIST]->(x:MarketingList {source: $r0, sourceKey: $r1}) }"
    with pytest.raises(RuleError, match="segments may not refer to themselves"):
        compile_rule(parse_rule({"segment": {"id": "loop"}}), saved.__getitem__)
    with pytest.raises(RuleError, match="segments may not refer to themselves"):
        compile_rule(parse_rule({"segment": {"id": "vip"}}), saved.__getitem__, own_id="vip")


def test_a_rule_on_the_other_subject_is_written_on_variables_of_its_own() -> None:
    """A person segment over an account audience whose rule counts people: three levels, three variables."""
    engaged = parse_rule({"people": {"minCount": 2, "where": {"visits": {"url": "/pricing"}}}}, Subject.COMPANY)
    saved = {"engaged": SavedRule(Subject.COMPANY, engaged)}
    result = compile_rule(parse_rule({"segment": {"id": "engaged"}}), saved.__getitem__)
    assert result.reads_colleagues
    # The company is `ac2`, its people `p1`; the outer person stays `p`.
    assert result.predicate.startswith(
        "EXISTS { MATCH (p)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->(ac2:Company) WHERE size(COLLECT { "
        "MATCH (ac2)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p1:Person) WHERE COUNT { MATCH (p1)-[:VISITED]->")
    assert " (p)" not in result.predicate.split("WHERE", 1)[1], "the inner rule does not read the outer person"


def test_a_company_rule_refuses_conditions_on_a_person_and_a_person_rule_people() -> None:
    with pytest.raises(RuleError, match=r"^visits: is not a condition on a company"):
        parse_rule({"visits": {"url": "/x"}}, Subject.COMPANY)
    with pytest.raises(RuleError, match=r"^and\[0\]\.people: is not a condition on a person"):
        parse_rule({"and": [{"people": {"minCount": 1}}]})
    with pytest.raises(RuleError, match=r"^people\.where\.people: is not a condition on a person"):
        parse_rule({"people": {"where": {"people": {}}}}, Subject.COMPANY)
    with pytest.raises(RuleError, match=r"^account\.scope: ACCOUNT is a person's own"):
        parse_rule({"account": {"scope": "ACCOUNT", "field": "NAME", "op": "EQ", "value": "x"}}, Subject.COMPANY)


@pytest.mark.parametrize("text", HOSTILE)
def test_no_value_of_a_rule_reaches_the_cypher_text(text: str) -> None:
    rules: list[dict[str, Any]] = [
        {"person": {"field": "EMAIL", "op": "EQ", "value": text}},
        {"person": {"field": "TITLE", "op": "IN", "values": [text, text + "2"]}},
        {"account": {"field": "NAME", "op": "STARTS_WITH", "value": text}},
        {"opportunities": {"op": "GT", "value": 0, "stages": [text]}},
        {"visits": {"url": text}},
        {"visits": {"url": text, "match": "PREFIX"}},
        {"campaign": {"source": text, "id": text, "status": text}},
        {"list": {"source": text, "id": text}},
        {"opportunityRole": {"op": "EQ", "value": text, "status": "OPEN"}},
        {"accountRole": {"op": "IN", "values": [text]}},
    ]
    for rule in rules:
        result = compiled(rule)
        for cypher_text in texts(result):
            assert MARK not in cypher_text, (rule, cypher_text)
        assert any(text.lower() in str(value).lower() for value in result.parameters.values()), rule


def test_a_role_on_a_deal_must_be_on_a_deal_of_the_persons_company_and_of_the_status() -> None:
    result = compiled({"opportunityRole": {"op": "EQ", "value": "Decision Maker", "status": "OPEN"}})
    assert result.predicate == (
        "EXISTS { MATCH (p)-[r:CONTACT_FOR]->(o:Opportunity) WHERE coalesce(toLower(r.role) = $r0, false) "
        "AND NOT o.isClosed AND EXISTS { MATCH (o)<-[:HAS_OPPORTUNITY]-(:Account)-[:PART_OF]->(rc:Company) "
        "MATCH (rc)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p) } }")
    assert result.parameters["r0"] == "decision maker"
    assert "contactRoles: COLLECT {" in result.evidence[0] and "kind: 'opportunityRole'" in result.evidence[0]


def test_a_role_at_an_account_tests_the_account_people_link() -> None:
    result = compiled({"accountRole": {"op": "NEQ", "value": "User"}})
    assert result.predicate == ("EXISTS { MATCH (p)-[r:ASSOCIATED_WITH]->(a:Account) "
                                "WHERE (r.role IS NULL OR toLower(r.role) <> $r0) }")
    assert "role: r.role" in result.evidence[0] and "kind: 'accountRole'" in result.evidence[0]


@pytest.mark.parametrize(("condition", "figure"), [
    ({"op": "GT", "value": 1}, "c.wonSum"),
    ({"aggregate": "COUNT", "status": "OPEN", "op": "GTE", "value": 2}, "c.openCount"),
    ({"aggregate": "MAX", "status": "ANY", "op": "LT", "value": 5}, "c.anyMax"),
    ({"aggregate": "SUM", "status": "LOST", "op": "EQ", "value": 0}, "c.lostSum"),
])
def test_a_status_only_company_condition_reads_the_figure_the_company_holds(condition: dict[str, Any],
                                                                             figure: str) -> None:
    result = compiled({"opportunities": condition})
    assert f"WHERE coalesce({figure} " in result.anchor
    assert "HAS_OPPORTUNITY" not in result.anchor and "HAS_OPPORTUNITY" not in result.predicate.split("COLLECT")[0]


@pytest.mark.parametrize("filters", [{"stages": ["Closed Won"]}, {"closedWithinDays": 30},
                                     {"closedAfter": "2026-01-01"}, {"closedBefore": "2026-01-01"}])
def test_a_company_condition_with_a_stage_or_date_filter_sums_the_deals_at_query_time(filters: dict[str, Any]) -> None:
    result = compiled({"opportunities": {"op": "GT", "value": 1, **filters}})
    assert "c.wonSum" not in result.anchor and "reduce(total = 0.0" in result.anchor
