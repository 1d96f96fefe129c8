"""Compiles a rule to Cypher: a predicate on its subject (the person `p`, or for an account
audience the company `ac`), an anchor that finds candidates through an index where the rule
allows, the residual predicate the candidates must still pass, and one evidence expression per
condition.

Only fixed text is written into the Cypher: labels, relationship types and property names come
from the allow-lists in rules.py, and every value the user gave travels as a parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from service.queries import Rendered, Template, query_file
from service.segments.buying_group import configured_roles, normalised
from service.segments.rules import (
    ACCOUNT_NUMBER_FIELDS,
    ACCOUNT_TEXT_FIELDS,
    PERSON_FIELDS,
    AccountCondition,
    AccountRoleCondition,
    AccountScope,
    All,
    AnyOf,
    BuyingGroupCondition,
    FamilyScope,
    Leaf,
    MembershipCondition,
    Not,
    NumberTest,
    OpportunityCondition,
    OpportunityRoleCondition,
    PeopleCondition,
    PersonCondition,
    Rule,
    RuleError,
    SegmentCondition,
    Subject,
    TextTest,
    VisitCondition,
)

COMPARE = {"EQ": "=", "NEQ": "<>", "GT": ">", "GTE": ">=", "LT": "<", "LTE": "<="}
ACCOUNT_MAP = ("{.source, .sourceKey, .name, .industry, .country, "
               "companyId: COLLECT { MATCH (%s)-[:PART_OF]->(co:Company) RETURN co.id }[0]}")
ROLE_ACCOUNT_MAP = ("{.source, .sourceKey, .name, .industry, .country, role: r.role, "
                    "companyId: COLLECT { MATCH (%s)-[:PART_OF]->(co:Company) RETURN co.id }[0]}")
# An opportunity `o` as the API's Opportunity reads it (its account and the ids sources know it by are
# fields of their own, read only when asked for).
OPPORTUNITY_MAP = "o {.source, .sourceKey, .name, .amount, .currency, .stage, .isWon, .isClosed, .closeDate}"
LARGEST_FIRST = "o.amount IS NULL, o.amount DESC, o.source, o.sourceKey"  # deals by amount, none last
VISIT_MAP = "v {.source, .sourceKey, .url, .visitedAt}"
# The deals an explanation lists behind each company figure, largest first; `dealCount` says how many there are.
MAX_EXPLAINED_DEALS = 10
# Which opportunities a status takes.
STATUS_FILTERS: dict[str, list[str]] = {"WON": ["o.isWon"], "LOST": ["o.isClosed", "NOT o.isWon"],
                                        "OPEN": ["NOT o.isClosed"], "ANY": []}
# A person segment's templates and their account-audience twins (on companies, `ac`); the companies
# of selected people have none: an account audience's members are companies already.
AUDIENCE_TWINS: dict[Template, Template] = {
    Template.SEGMENT_COUNT: Template.AUDIENCE_COUNT,
    Template.SEGMENT_EVALUATE: Template.AUDIENCE_EVALUATE,
    Template.SEGMENT_EVALUATE_PEOPLE: Template.AUDIENCE_EVALUATE_COMPANIES,
    Template.SEGMENT_EXPLAIN: Template.AUDIENCE_EXPLAIN,
    Template.SEGMENT_MEMBERS: Template.AUDIENCE_MEMBERS,
}
SCAN_ANCHOR = "MATCH (p:Person) RETURN p"
COMPANY_SCAN_ANCHOR = "MATCH (ac:Company) RETURN ac"
# The variable each subject's predicate is written on.
SUBJECT_VARIABLE: dict[str, str] = {Subject.PERSON: "p", Subject.COMPANY: "ac"}
# The people of company `ac` over all its linked accounts (each reached once per account: take DISTINCT).
PEOPLE_OF_COMPANY = "(ac)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(%s:Person)"
# The people a `people` condition lists in its evidence, by email; `peopleCount` says how many passed.
MAX_EXPLAINED_PEOPLE = 10
MEMBERSHIPS = {"campaign": ("MEMBER_OF", "Campaign"), "list": ("ON_LIST", "MarketingList")}


@dataclass(frozen=True)
class SavedRule:
    """A saved segment's rule and what it selects."""

    subject: str
    rule: Rule


@dataclass
class Compiled:
    subject: str  # Subject.PERSON: the variable is `p`; Subject.COMPANY: `ac`
    predicate: str  # the whole rule, on any subject (for templates that bring their own people or companies)
    anchor: str  # the candidates: every member, and people the residual still has to filter out
    residual: str  # the predicate less the conditions the anchor already guarantees
    evidence: list[str]
    parameters: dict[str, Any] = field(default_factory=dict)
    # A person's membership can move with a change to a colleague (someone of one of their companies):
    # the rule reads an account audience, or how many people of a company are engaged.
    reads_colleagues: bool = False

    def render(self, template: Template) -> Rendered:
        """The template with this rule in its slots; run it with Graph.run_template. An account
        audience's rule is rendered into the template's twin on companies (AUDIENCE_TWINS)."""
        if self.subject == Subject.COMPANY:
            template = AUDIENCE_TWINS[template]
        return Rendered(template, self.fill(query_file(template).text))

    def fill(self, text: str) -> str:
        """Text with this rule in its /*ANCHOR*/, /*PREDICATE*/, /*RESIDUAL*/ and /*EVIDENCE*/ slots."""
        return (text.replace("/*ANCHOR*/", self.anchor)
                .replace("/*PREDICATE*/", self.predicate)
                .replace("/*RESIDUAL*/", self.residual)
                .replace("/*EVIDENCE*/", ",\n  ".join(self.evidence) or ""))


def evidence(companies: str = "[]", accounts: str = "[]", visits: str = "[]", memberships: str = "[]",
             contact_roles: str = "[]", people: str = "[]", people_count: str = "0") -> str:
    """The evidence map's fields, each condition filling its own (every member has every field)."""
    return (f"companies: {companies}, accounts: {accounts}, visits: {visits}, memberships: {memberships}, "
            f"contactRoles: {contact_roles}, people: {people}, peopleCount: {people_count}")


NO_EVIDENCE = evidence()


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
    def __init__(self, saved_rules: Callable[[str], SavedRule], subject: str) -> None:
        self.saved_rules = saved_rules
        self.subject = subject  # of the rule being compiled now (a `people` condition's is a person)
        self.parameters: dict[str, Any] = {}
        self.evidence: list[str] = []
        self.segments: list[str] = []
        self.crossings = 0
        self.reads_colleagues = False

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
        if isinstance(rule, PeopleCondition):
            condition, evidence = self.people(rule)
        else:
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
        if saved.subject == self.subject:
            condition = self.predicate(saved.rule, "", explain=False)
        elif saved.subject == Subject.COMPANY:  # a person in an account audience: one of their companies is
            self.reads_colleagues = True
            company, inner = self.crossing(Subject.COMPANY, saved.rule)
            condition = (f"EXISTS {{ MATCH (p)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->({company}:Company) "
                         f"WHERE {inner} }}")
        else:  # a company in a person segment: one of its people is
            person, inner = self.crossing(Subject.PERSON, saved.rule)
            condition = f"EXISTS {{ MATCH {PEOPLE_OF_COMPANY % person} WHERE {inner} }}"
        self.segments.pop()
        if explain:
            self.evidence.append(f"{{path: {self.parameter(path)}, kind: 'segment', "
                                 f"matched: {condition}, {NO_EVIDENCE}}}")
        return condition

    def crossing(self, subject: str, rule: Rule) -> tuple[str, str]:
        """A rule on the other subject inside this one: its predicate, written on a variable of its own
        (`p1`, `ac2` ...) so it neither captures the enclosing subject's variable nor is captured by it."""
        outer, self.subject = self.subject, subject
        try:
            condition = self.predicate(rule, "", explain=False)
        finally:
            self.subject = outer
        self.crossings += 1
        own = SUBJECT_VARIABLE[subject]
        variable = f"{own}{self.crossings}"
        # The subject's variable is the only identifier of its name in generated Cypher: every value
        # is a parameter ($r0 ...), and no label, property or map key is named `p` or `ac`.
        return variable, re.sub(rf"(?<![\w.$]){own}(?!\w)", variable, condition)

    def people(self, rule: PeopleCondition) -> tuple[str, str]:
        """At least min_count of the company's people pass `where`; the evidence lists the first of them."""
        if rule.where:
            person, where = self.crossing(Subject.PERSON, rule.where)
        else:
            self.crossings += 1
            person, where = f"p{self.crossings}", "true"
        passing = (f"COLLECT {{ MATCH {PEOPLE_OF_COMPANY % person} WHERE {where} "
                   f"RETURN DISTINCT {person} }}")
        condition = f"size({passing}) >= {self.parameter(rule.min_count)}"
        listed = (f"COLLECT {{ MATCH {PEOPLE_OF_COMPANY % person} WHERE {where} WITH DISTINCT {person} "
                  f"ORDER BY {person}.email LIMIT {MAX_EXPLAINED_PEOPLE} "
                  f"RETURN {person} {{.email, .firstName, .lastName, .title}} }}")
        return condition, evidence(people=listed, people_count=f"size({passing})")

    def each_company(self, company: str, where: str | None = None) -> str:
        """A clause binding `company` to each company of the subject: the person's companies, or the
        company itself; only those passing `where` when given."""
        if self.subject == Subject.COMPANY:
            return f"UNWIND [ac] AS {company}" + (f" WITH {company} WHERE {where}" if where else "")
        return (f"MATCH (p)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->({company}:Company)"
                + (f" WHERE {where}" if where else ""))

    def figure_companies(self, scope: str, where: str | None = None) -> str:
        """A clause binding `c` to each company whose figure an opportunities condition tests: the
        subject's companies, or for scope ULTIMATE their ultimate parents; only those passing `where`."""
        if scope != FamilyScope.ULTIMATE:
            return self.each_company("c", where)
        start = ("(ac)" if self.subject == Subject.COMPANY
                 else "(p)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->(:Company)")
        return f"MATCH {start}{ULTIMATE_OF % ('c', 'c')}" + (f" AND {where}" if where else "")

    def account_path(self, scope: str) -> str:
        """The pattern to the accounts `a` an account condition tests: a person's own (scope ACCOUNT), or
        all the accounts of the subject's companies (COMPANY), of them and every company under them
        (FAMILY), or of everything under their ultimate parents (ULTIMATE)."""
        if scope == AccountScope.ACCOUNT:
            return "(p)-[:ASSOCIATED_WITH]->(a:Account)"
        # Two MATCH clauses for the company: in one pattern, the person's own account could not be
        # reached back over the PART_OF it came through.
        if self.subject == Subject.COMPANY:
            start, company = "(ac)", "ac"
        else:
            start, company = "(p)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->(company:Company)", "company"
        if scope == AccountScope.ULTIMATE:
            start, company = f"{start}{ULTIMATE_OF % ('famTop', 'famTop')}", "famTop"
        if scope != AccountScope.COMPANY:
            start, company = f"{start} MATCH ({company})<-[:CHILD_OF*0..]-(famMember:Company)", "famMember"
        return f"{start} MATCH ({company})<-[:PART_OF]-(a:Account)"

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
        if isinstance(rule, OpportunityRoleCondition):
            return self.opportunity_role(rule)
        if isinstance(rule, AccountRoleCondition):
            return self.account_role(rule)
        if isinstance(rule, BuyingGroupCondition):
            return self.buying_group(rule)
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
        path = self.account_path(rule.scope)
        condition = f"EXISTS {{ MATCH {path} WHERE {test} }}"
        return condition, evidence(accounts=f"COLLECT {{ MATCH {path} WHERE {test} "
                                            f"RETURN DISTINCT a {ACCOUNT_MAP % 'a'} ORDER BY a.source, a.sourceKey }}")

    def company_value(self, rule: OpportunityCondition, company: str = "c") -> str:
        """The aggregate of the opportunities of the company over all its accounts: the figure the company
        holds (service.ingest.figures) when the condition filters by status only, else summed now (and
        always for a family: the company and every company under it)."""
        if _reads_held_figure(rule) and rule.scope == FamilyScope.COMPANY:
            return f"{company}.{rule.status.lower()}{rule.aggregate.capitalize()}"
        return _aggregate(rule.aggregate, self.company_deals(rule, company))

    def company_deals(self, rule: OpportunityCondition, company: str = "c") -> str:
        """The opportunities of the company over all its accounts that the condition takes, each once."""
        filters = list(STATUS_FILTERS[rule.status])
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
        under = "" if rule.scope == FamilyScope.COMPANY else "<-[:CHILD_OF*0..]-(:Company)"
        return (f"COLLECT {{ MATCH ({company}){under}<-[:PART_OF]-(:Account)-[:HAS_OPPORTUNITY]->"
                f"(o:Opportunity){where} RETURN DISTINCT o }}")

    def opportunities(self, rule: OpportunityCondition) -> tuple[str, str]:
        """Each company of the person with its figure, and the deals behind it: the largest
        MAX_EXPLAINED_DEALS of them (largest first), and how many there are."""
        deals = self.company_deals(rule)
        test = self.number_test(self.company_value(rule), rule.test)
        condition = f"EXISTS {{ {self.figure_companies(rule.scope, test)} }}"
        # The subject's accounts behind the figure: a person's in the company (or its family), a company's own.
        accounts = (f"(p)-[:ASSOCIATED_WITH]->(a:Account)-[:PART_OF]->{_in_figure(rule.scope)}"
                    if self.subject == Subject.PERSON else "(ac)<-[:PART_OF]-(a:Account)")
        companies = (
            f"COLLECT {{ {self.figure_companies(rule.scope)} "
            f"WITH DISTINCT c WITH c, {deals} AS deals "
            f"WITH c, deals, {_aggregate(rule.aggregate, 'deals')} AS value "
            f"RETURN {{companyId: c.id, value: value, matched: {self.number_test('value', rule.test)}, "
            "dealCount: size(deals), "
            f"deals: COLLECT {{ UNWIND deals AS o WITH o ORDER BY {LARGEST_FIRST} LIMIT {MAX_EXPLAINED_DEALS} "
            f"RETURN {OPPORTUNITY_MAP} }}, "
            f"accounts: COLLECT {{ MATCH {accounts} "
            f"RETURN a {ACCOUNT_MAP % 'a'} "
            "ORDER BY a.source, a.sourceKey }} }"
        )
        return condition, evidence(companies=companies)

    def opportunity_role(self, rule: OpportunityRoleCondition) -> tuple[str, str]:
        """A contact role on a deal of one of the person's companies: the deal's account is in a
        company the person has an account in."""
        filters = [self.text_test("r.role", rule.test), *STATUS_FILTERS[rule.status]]
        # Two MATCH clauses: in one pattern, the person's own account could not be the deal's.
        pattern = (f"MATCH (p)-[r:CONTACT_FOR]->(o:Opportunity) WHERE {' AND '.join(filters)} "
                   "AND EXISTS { MATCH (o)<-[:HAS_OPPORTUNITY]-(:Account)-[:PART_OF]->(rc:Company) "
                   "MATCH (rc)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p) }")
        roles = (f"COLLECT {{ {pattern} WITH r, o ORDER BY {LARGEST_FIRST} "
                 "RETURN {role: r.role, isPrimary: r.isPrimary, person: p {.email, .firstName, .lastName, .title}, "
                 f"opportunity: {OPPORTUNITY_MAP}}} }}")
        return f"EXISTS {{ {pattern} }}", evidence(contact_roles=roles)

    def account_role(self, rule: AccountRoleCondition) -> tuple[str, str]:
        pattern = f"MATCH (p)-[r:ASSOCIATED_WITH]->(a:Account) WHERE {self.text_test('r.role', rule.test)}"
        accounts = f"COLLECT {{ {pattern} RETURN a {ROLE_ACCOUNT_MAP % 'a'} ORDER BY a.source, a.sourceKey }}"
        return f"EXISTS {{ {pattern} }}", evidence(accounts=accounts)

    def buying_group(self, rule: BuyingGroupCondition) -> tuple[str, str]:
        """A company of the person whose buying group (service.segments.buying_group) passes every
        part of the condition; the evidence: each company with how many configured roles it fills."""
        configured = self.parameter([normalised(role) for role in configured_roles()])

        def filled(role: str) -> str:
            return ("(EXISTS { MATCH (bgc)<-[:PART_OF]-(:Account)-[:HAS_OPPORTUNITY]->(:Opportunity)"
                    f"<-[bgr:CONTACT_FOR]-(:Person) WHERE toLower(trim(bgr.role)) = {role} }} "
                    "OR EXISTS { MATCH (bgc)<-[:PART_OF]-(:Account)<-[bgr:ASSOCIATED_WITH]-(:Person) "
                    f"WHERE toLower(trim(bgr.role)) = {role} }})")

        count_filled = f"size([bgrole IN {configured} WHERE {filled('bgrole')}])"
        tests = [filled(self.parameter(normalised(role))) for role in rule.roles]
        if rule.min_roles:
            tests.append(f"{count_filled} >= {self.parameter(rule.min_roles)}")
        if rule.min_engaged:
            self.reads_colleagues = self.reads_colleagues or self.subject == Subject.PERSON
            days = self.parameter(rule.within_days)
            engaged = (f"(EXISTS {{ MATCH (bgq)-[:VISITED]->(bgv:WebVisit) WHERE bgv.visitedAt <= datetime() "
                       f"AND bgv.visitedAt >= datetime() - duration({{days: {days}}}) }} "
                       "OR EXISTS { MATCH (bgq)-[bgm:MEMBER_OF]->(:Campaign) "
                       f"WHERE toLower(bgm.status) CONTAINS 'respond' "
                       f"AND bgm.firstSeenAt >= datetime() - duration({{days: {days}}}) }})")
            members = (f"COUNT {{ MATCH (bgc)<-[:PART_OF]-(:Account)-[:HAS_OPPORTUNITY]->(:Opportunity)"
                       f"<-[bgr:CONTACT_FOR]-(bgq:Person) WHERE toLower(trim(bgr.role)) IN {configured} "
                       f"AND {engaged} RETURN bgq "
                       "UNION MATCH (bgc)<-[:PART_OF]-(:Account)<-[bgr:ASSOCIATED_WITH]-(bgq:Person) "
                       f"WHERE toLower(trim(bgr.role)) IN {configured} AND {engaged} RETURN bgq }}")
            tests.append(f"{members} >= {self.parameter(rule.min_engaged)}")
        test = " AND ".join(tests)
        evidence_of = (f"COLLECT {{ {self.each_company('bgc')} WITH DISTINCT bgc "
                       f"RETURN {{companyId: bgc.id, value: toFloat({count_filled}), matched: {test}, "
                       "dealCount: 0, deals: [], accounts: []} }")
        return f"EXISTS {{ {self.each_company('bgc', test)} }}", evidence(companies=evidence_of)

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
        return condition, evidence(visits=f"COLLECT {{ MATCH (p)-[:VISITED]->(v:WebVisit) WHERE {where} "
                                          f"RETURN {VISIT_MAP} }}")

    def membership_pattern(self, rule: MembershipCondition) -> str:
        relationship, label = MEMBERSHIPS[rule.kind]
        return (f"(p)-[m:{relationship}]->(x:{label} {{source: {self.parameter(rule.source)}, "
                f"sourceKey: {self.parameter(rule.key)}}})")

    def membership(self, rule: MembershipCondition) -> tuple[str, str]:
        pattern = self.membership_pattern(rule)
        where = f" WHERE toLower(m.status) = {self.parameter(rule.status.lower())}" if rule.status else ""
        condition = f"EXISTS {{ MATCH {pattern}{where} }}"
        return condition, evidence(memberships=f"COLLECT {{ MATCH {pattern}{where} "
                                               f"RETURN {{kind: '{rule.kind}', source: x.source, id: x.sourceKey, "
                                               "name: x.name, status: m.status} }")

    def company_anchor(self, rule: Rule) -> tuple[str, str]:
        """An account audience's candidates: the companies passing a top-level opportunity condition
        (through the figure's index when it reads one), else every company; and the residual."""
        parts = rule.parts if isinstance(rule, All) else (rule,)
        # A family figure (scope FAMILY or ULTIMATE) is left to the residual.
        companies = [part for part in parts
                     if isinstance(part, OpportunityCondition) and part.scope == FamilyScope.COMPANY]
        if not companies:
            return COMPANY_SCAN_ANCHOR, self.predicate(rule, "", explain=False)
        test = self.number_test(self.company_value(companies[0], "ac"), companies[0].test)
        rest = [part for part in parts if part is not companies[0]]
        residual = self.predicate(All(tuple(rest)), "", explain=False) if rest else "true"
        return f"MATCH (ac:Company) WHERE {test} RETURN ac", residual

    def anchor(self, rule: Rule) -> tuple[str, str]:
        """The candidates, through an index when a top-level condition allows (else every person),
        and the residual predicate: the conditions the candidates are not yet known to pass.

        A visit condition anchors on the visits' index; a campaign or list membership on the
        membership. A company opportunity condition summed at query time then keeps the candidates'
        companies that pass it (each company's total computed once, however many candidates it has);
        one reading a figure the company holds stays in the residual. With no other anchor, it is the
        anchor itself: the companies that pass (through the figure's index), then their people.
        """
        parts = rule.parts if isinstance(rule, All) else (rule,)
        guaranteed: list[Rule] = []
        clauses: list[str] = []
        visits = [p for p in parts if isinstance(p, VisitCondition) and p.match in ("EXACT", "PREFIX")]
        memberships = [p for p in parts if isinstance(p, MembershipCondition)]
        # A family figure (scope FAMILY or ULTIMATE) is left to the residual.
        companies = [p for p in parts if isinstance(p, OpportunityCondition) and p.scope == FamilyScope.COMPANY]
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
        # With another anchor, a figure the company holds is left to the residual: one property read
        # per candidate's company costs less than grouping the candidates by company.
        if companies and not (clauses and _reads_held_figure(companies[0])):
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


# Corporate families (docs/segments.md, "Corporate families"): the company hierarchy is
# (:Company)-[:CHILD_OF]->(:Company), derived from the accounts' SUBSIDIARY_OF links on import.
# An ultimate parent is a company of the family with no parent.
ULTIMATE_OF = "-[:CHILD_OF*0..]->(%s:Company) WHERE NOT (%s)-[:CHILD_OF]->(:Company)"


def _in_figure(scope: str) -> str:
    """The end of a pattern from one of the person's accounts to company `c`: directly, or through the
    hierarchy for a family figure (the person's accounts in the family)."""
    return "(c)" if scope == "COMPANY" else "(:Company)-[:CHILD_OF*0..]->(c)"


def _reads_held_figure(rule: OpportunityCondition) -> bool:
    """Whether the condition reads a figure the company holds: it filters its deals by status only."""
    return not (rule.stages or rule.closed_after or rule.closed_before or rule.closed_within_days)


def _person_property(field_name: str) -> str:
    prop = PERSON_FIELDS[field_name]
    return "split(p.email, '@')[1]" if field_name == "EMAIL_DOMAIN" else f"p.{prop}"


def _aggregate(aggregate: str, deals: str) -> str:
    """SUM, COUNT or MAX of a list of opportunities."""
    return {
        "SUM": f"reduce(total = 0.0, o IN {deals} | total + o.amount)",
        "COUNT": f"size({deals})",
        "MAX": f"reduce(top = null, o IN {deals} | CASE WHEN top IS NULL OR o.amount > top THEN o.amount ELSE top END)",
    }[aggregate]


def _key(rule: Leaf) -> str:
    """The rule language's key of a condition (its `kind` in explanations)."""
    if isinstance(rule, MembershipCondition):
        return rule.kind
    return {PersonCondition: "person", AccountCondition: "account", OpportunityCondition: "opportunities",
            VisitCondition: "visits", OpportunityRoleCondition: "opportunityRole",
            AccountRoleCondition: "accountRole", BuyingGroupCondition: "buyingGroup",
            PeopleCondition: "people"}[type(rule)]


def compile_rule(rule: Rule, saved_rules: Callable[[str], SavedRule], own_id: str | None = None,
                 subject: str = Subject.PERSON) -> Compiled:
    """Compile a rule on a person or a company; `saved_rules(id)` returns a saved segment's rule and
    subject (RuleError if unknown).

    own_id: the segment this rule is (to be) saved as, which it may not build on.
    """
    compiler = _Compiler(saved_rules, subject)
    compiler.segments = [own_id] if own_id else []
    predicate = compiler.predicate(rule, "")
    anchor, residual = compiler.company_anchor(rule) if subject == Subject.COMPANY else compiler.anchor(rule)
    return Compiled(subject, predicate, anchor, residual, compiler.evidence, compiler.parameters,
                    compiler.reads_colleagues)
