"""Compiles a rule to Cypher: a predicate on the person `p`, an anchor that finds candidates
through an index where the rule allows, the residual predicate the candidates must still pass,
and one evidence expression per condition.

Only fixed text is written into the Cypher: labels, relationship types and property names come
from the allow-lists in rules.py, and every value the user gave travels as a parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from service.queries import Rendered, Template, query_file
from service.segments.rules import (
    ACCOUNT_NUMBER_FIELDS,
    ACCOUNT_TEXT_FIELDS,
    PERSON_FIELDS,
    AccountCondition,
    All,
    AnyOf,
    Leaf,
    MembershipCondition,
    Not,
    NumberTest,
    OpportunityCondition,
    PersonCondition,
    Rule,
    RuleError,
    SegmentCondition,
    TextTest,
    VisitCondition,
)

COMPARE = {"EQ": "=", "NEQ": "<>", "GT": ">", "GTE": ">=", "LT": "<", "LTE": "<="}
ACCOUNT_MAP = ("{.source, .sourceKey, .name, .industry, .country, "
               "companyId: COLLECT { MATCH (%s)-[:PART_OF]->(co:Company) RETURN co.id }[0]}")
VISIT_MAP = "v {.source, .sourceKey, .url, .visitedAt}"
NO_EVIDENCE = "companies: [], accounts: [], visits: [], memberships: []"
SCAN_ANCHOR = "MATCH (p:Person) RETURN p"
MEMBERSHIPS = {"campaign": ("MEMBER_OF", "Campaign"), "list": ("ON_LIST", "MarketingList")}


@dataclass
class Compiled:
    predicate: str  # the whole rule, on any person `p` (for templates that bring their own people)
    anchor: str  # the candidates: every member, and people the residual still has to filter out
    residual: str  # the predicate less the conditions the anchor already guarantees
    evidence: list[str]
    parameters: dict[str, Any] = field(default_factory=dict)

    def render(self, template: Template) -> Rendered:
        """The template with this rule in its slots; run it with Graph.run_template."""
        return Rendered(template, self.fill(query_file(template).text))

    def fill(self, text: str) -> str:
        """Text with this rule in its /*ANCHOR*/, /*PREDICATE*/, /*RESIDUAL*/ and /*EVIDENCE*/ slots."""
        return (text.replace("/*ANCHOR*/", self.anchor)
                .replace("/*PREDICATE*/", self.predicate)
                .replace("/*RESIDUAL*/", self.residual)
                .replace("/*EVIDENCE*/", ",\n  ".join(self.evidence) or ""))


def glob_to_regex(pattern: str) -> str:
    """A URL pattern with * wildcards, as an anchored regular expression matching nothing else.

    Written so that matching cannot backtrack: `^.*a.*a.*a...b$` takes time exponential in the
    number of wildcards on a URL that almost matches, and Neo4j cannot stop a regular expression
    once it runs, transaction timeout or not. Each middle part is taken at its first occurrence
    after the one before, in an atomic group (Java's `(?>...)`), which is all a glob needs: a
    part found earlier leaves more room to the ones after it. The last part must end the URL.
    """
    parts = [re.escape(part) for part in pattern.split("*")]
    if len(parts) == 1:
        return f"^{parts[0]}$"
    middle = "".join(f"(?>.*?{part})" for part in parts[1:-1])
    return f"^{parts[0]}{middle}.*{parts[-1]}$"


class _Compiler:
    def __init__(self, saved_rules: Callable[[str], Rule]) -> None:
        self.saved_rules = saved_rules
        self.parameters: dict[str, Any] = {}
        self.evidence: list[str] = []
        self.segments: list[str] = []

    def parameter(self, value: Any) -> str:
        name = f"r{len(self.parameters)}"
        self.parameters[name] = value
        return "$" + name

    def predicate(self, rule: Rule, path: str, explain: bool = True) -> str:
        if isinstance(rule, All):
            return "(" + " AND ".join(self.predicate(part, f"{path}and[{i}].", explain)
                                      for i, part in enumerate(rule.parts)) + ")"
        if isinstance(rule, AnyOf):
            return "(" + " OR ".join(self.predicate(part, f"{path}or[{i}].", explain)
                                     for i, part in enumerate(rule.parts)) + ")"
        if isinstance(rule, Not):
            return "(NOT " + self.predicate(rule.part, f"{path}not.", explain) + ")"
        if isinstance(rule, SegmentCondition):
            return self.segment(rule, path + "segment", explain)
        condition, evidence = self.leaf(rule)
        if explain:
            self.evidence.append(f"{{path: {self.parameter(path + _key(rule))}, kind: '{_key(rule)}', "
                                 f"matched: {condition}, {evidence}}}")
        return condition

    def segment(self, rule: SegmentCondition, path: str, explain: bool) -> str:
        if rule.segment_id in self.segments:
            raise RuleError(path, "segments may not refer to themselves, directly or through others")
        self.segments.append(rule.segment_id)
        saved = self.saved_rules(rule.segment_id)
        condition = self.predicate(saved, "", explain=False)
        self.segments.pop()
        if explain:
            self.evidence.append(f"{{path: {self.parameter(path)}, kind: 'segment', "
                                 f"matched: {condition}, {NO_EVIDENCE}}}")
        return condition

    def leaf(self, rule: Leaf) -> tuple[str, str]:
        if isinstance(rule, PersonCondition):
            return self.text_test(_person_property(rule.field), rule.test), NO_EVIDENCE
        if isinstance(rule, AccountCondition):
            return self.account(rule)
        if isinstance(rule, OpportunityCondition):
            return self.opportunities(rule)
        if isinstance(rule, VisitCondition):
            return self.visits(rule)
        if isinstance(rule, MembershipCondition):
            return self.membership(rule)
        raise TypeError(rule)

    def text_test(self, expression: str, test: TextTest) -> str:
        """Case-insensitive; a missing value never passes (so NOT of a test on it does)."""
        if test.op == "NEQ":
            return f"({expression} IS NULL OR toLower({expression}) <> {self.parameter(test.values[0].lower())})"
        if test.op == "IN":
            comparison = f"toLower({expression}) IN {self.parameter([v.lower() for v in test.values])}"
        else:
            operator = {"EQ": "=", "CONTAINS": "CONTAINS", "STARTS_WITH": "STARTS WITH",
                        "ENDS_WITH": "ENDS WITH"}[test.op]
            comparison = f"toLower({expression}) {operator} {self.parameter(test.values[0].lower())}"
        return f"coalesce({comparison}, false)"

    def number_test(self, expression: str, test: NumberTest) -> str:
        return f"coalesce({expression} {COMPARE[test.op]} {self.parameter(test.number)}, false)"

    def account(self, rule: AccountCondition) -> tuple[str, str]:
        # The parser gives a number field a NumberTest and a text field a TextTest.
        if isinstance(rule.test, NumberTest):
            test = self.number_test(f"a.{ACCOUNT_NUMBER_FIELDS[rule.field]}", rule.test)
        else:
            test = self.text_test(f"a.{ACCOUNT_TEXT_FIELDS[rule.field]}", rule.test)
        # Two MATCH clauses for the company: in one pattern, the person's own account could not be
        # reached back over the PART_OF it came through.
        path = ("(p)-[:ASSOCIATED_WITH]->(a:Account)" if rule.scope == "ACCOUNT" else
                "(p)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->(company:Company) "
                "MATCH (company)<-[:PART_OF]-(a:Account)")
        condition = f"EXISTS {{ MATCH {path} WHERE {test} }}"
        evidence = (f"companies: [], accounts: COLLECT {{ MATCH {path} WHERE {test} "
                    f"RETURN DISTINCT a {ACCOUNT_MAP % 'a'} ORDER BY a.source, a.sourceKey }}, "
                    "visits: [], memberships: []")
        return condition, evidence

    def company_value(self, rule: OpportunityCondition) -> str:
        """The aggregate of the opportunities of company `c` over all its accounts."""
        filters = {"WON": ["o.isWon"], "LOST": ["o.isClosed", "NOT o.isWon"], "OPEN": ["NOT o.isClosed"],
                   "ANY": []}[rule.status]
        if rule.stages:
            filters.append(f"o.stage IN {self.parameter(list(rule.stages))}")
        if rule.closed_after:
            filters.append(f"o.closeDate >= {self.parameter(rule.closed_after)}")
        if rule.closed_before:
            filters.append(f"o.closeDate < {self.parameter(rule.closed_before)}")
        if rule.closed_within_days:
            filters.append(f"o.closeDate >= date() - duration({{days: {self.parameter(rule.closed_within_days)}}})")
            filters.append("o.closeDate <= date()")
        where = f" WHERE {' AND '.join(filters)}" if filters else ""
        opportunities = (f"COLLECT {{ MATCH (c)<-[:PART_OF]-(:Account)-[:HAS_OPPORTUNITY]->(o:Opportunity){where} "
                         "RETURN DISTINCT o }")
        return {
            "SUM": f"reduce(total = 0.0, o IN {opportunities} | total + o.amount)",
            "COUNT": f"size({opportunities})",
            "MAX": f"reduce(top = null, o IN {opportunities} | "
                   "CASE WHEN top IS NULL OR o.amount > top THEN o.amount ELSE top END)",
        }[rule.aggregate]

    def opportunities(self, rule: OpportunityCondition) -> tuple[str, str]:
        value = self.company_value(rule)
        test = self.number_test(value, rule.test)
        condition = f"EXISTS {{ MATCH (p)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->(c:Company) WHERE {test} }}"
        evidence = (
            "companies: COLLECT { MATCH (p)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->(c:Company) "
            f"WITH DISTINCT c WITH c, {value} AS value "
            f"RETURN {{companyId: c.id, value: value, matched: {self.number_test('value', rule.test)}, "
            "accounts: COLLECT { MATCH (p)-[:ASSOCIATED_WITH]->(a:Account)-[:PART_OF]->(c) "
            f"RETURN a {ACCOUNT_MAP % 'a'} "
            "ORDER BY a.source, a.sourceKey }} }, "
            "accounts: [], visits: [], memberships: []"
        )
        return condition, evidence

    def visit_filters(self, rule: VisitCondition) -> str:
        url = {"EXACT": "v.url = {}", "PREFIX": "v.url STARTS WITH {}", "PATTERN": "v.url =~ {}"}[rule.match]
        filters = [url.format(self.parameter(glob_to_regex(rule.url) if rule.match == "PATTERN" else rule.url))]
        filters.append("v.visitedAt <= datetime()")  # a visit stamped ahead (clock skew) counts once it is due
        if rule.within_days:
            filters.append(f"v.visitedAt >= datetime() - duration({{days: {self.parameter(rule.within_days)}}})")
        if rule.after:
            filters.append(f"v.visitedAt >= {self.parameter(rule.after)}")
        if rule.before:
            filters.append(f"v.visitedAt < {self.parameter(rule.before)}")
        return " AND ".join(filters)

    def visits(self, rule: VisitCondition) -> tuple[str, str]:
        where = self.visit_filters(rule)
        condition = f"COUNT {{ MATCH (p)-[:VISITED]->(v:WebVisit) WHERE {where} }} >= {self.parameter(rule.min_count)}"
        evidence = (f"companies: [], accounts: [], visits: COLLECT {{ MATCH (p)-[:VISITED]->(v:WebVisit) WHERE {where} "
                    f"RETURN {VISIT_MAP} }}, memberships: []")
        return condition, evidence

    def membership_pattern(self, rule: MembershipCondition) -> str:
        relationship, label = MEMBERSHIPS[rule.kind]
        return (f"(p)-[m:{relationship}]->(x:{label} {{source: {self.parameter(rule.source)}, "
                f"sourceKey: {self.parameter(rule.key)}}})")

    def membership(self, rule: MembershipCondition) -> tuple[str, str]:
        pattern = self.membership_pattern(rule)
        where = f" WHERE toLower(m.status) = {self.parameter(rule.status.lower())}" if rule.status else ""
        condition = f"EXISTS {{ MATCH {pattern}{where} }}"
        evidence = (f"companies: [], accounts: [], visits: [], memberships: COLLECT {{ MATCH {pattern}{where} "
                    f"RETURN {{kind: '{rule.kind}', source: x.source, id: x.sourceKey, name: x.name, "
                    "status: m.status} }")
        return condition, evidence

    def anchor(self, rule: Rule) -> tuple[str, str]:
        """The candidates, through an index when a top-level condition allows (else every person),
        and the residual predicate: the conditions the candidates are not yet known to pass.

        A visit condition anchors on the visits' index; a campaign or list membership on the
        membership. A company opportunity condition then keeps the candidates' companies that pass
        it (each company's total computed once, however many candidates it has), or, with no
        other anchor, is the anchor itself: every company, then its people.
        """
        parts = rule.parts if isinstance(rule, All) else (rule,)
        guaranteed: list[Rule] = []
        clauses: list[str] = []
        visits = [p for p in parts if isinstance(p, VisitCondition) and p.match in ("EXACT", "PREFIX")]
        memberships = [p for p in parts if isinstance(p, MembershipCondition)]
        companies = [p for p in parts if isinstance(p, OpportunityCondition)]
        if visits:
            clauses.append(f"MATCH (v:WebVisit) WHERE {self.visit_filters(visits[0])} "
                           "MATCH (p:Person)-[:VISITED]->(v) WITH DISTINCT p")
            if visits[0].min_count <= 1:
                guaranteed.append(visits[0])
        elif memberships:
            pattern = self.membership_pattern(memberships[0])
            where = (f" WHERE toLower(m.status) = {self.parameter(memberships[0].status.lower())}"
                     if memberships[0].status else "")
            clauses.append(f"MATCH {pattern}{where} WITH DISTINCT p")
            guaranteed.append(memberships[0])
        if companies:
            test = self.number_test(self.company_value(companies[0]), companies[0].test)
            if clauses:
                clauses.append("MATCH (p)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->(c:Company) "
                               f"WITH c, collect(DISTINCT p) AS people WHERE {test} "
                               "UNWIND people AS p WITH DISTINCT p")
            else:
                clauses.append(f"MATCH (c:Company) WHERE {test} "
                               "MATCH (c)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person) WITH DISTINCT p")
            guaranteed.append(companies[0])
        if not clauses:
            return SCAN_ANCHOR, self.predicate(rule, "", explain=False)
        rest = [part for part in parts if not any(part is done for done in guaranteed)]
        residual = self.predicate(All(tuple(rest)), "", explain=False) if rest else "true"
        return " ".join(clauses) + " RETURN p", residual


def _person_property(field_name: str) -> str:
    prop = PERSON_FIELDS[field_name]
    return "split(p.email, '@')[1]" if field_name == "EMAIL_DOMAIN" else f"p.{prop}"


def _key(rule: Leaf) -> str:
    return {PersonCondition: "person", AccountCondition: "account", OpportunityCondition: "opportunities",
            VisitCondition: "visits"}.get(type(rule)) or (
                "campaign" if getattr(rule, "kind", "") == "campaign" else "list")


def compile_rule(rule: Rule, saved_rules: Callable[[str], Rule], own_id: str | None = None) -> Compiled:
    """Compile a rule; `saved_rules(id)` returns a saved segment's rule (RuleError if unknown).

    own_id: the segment this rule is (to be) saved as, which it may not build on.
    """
    compiler = _Compiler(saved_rules)
    compiler.segments = [own_id] if own_id else []
    predicate = compiler.predicate(rule, "")
    anchor, residual = compiler.anchor(rule)
    return Compiled(predicate, anchor, residual, compiler.evidence, compiler.parameters)
