"""Evaluating rules and keeping saved segments: count, members with evidence, snapshots."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.database import Graph, Transaction
from service.errors import AccountGraphError, ErrorCode
from service.queries import Q, Rendered, Template
from service.segments import snapshot
from service.segments.compiler import Compiled, SavedRule, compile_rule
from service.segments.rules import (
    Rule,
    RuleError,
    Subject,
    parse_rule,
    segment_reference_paths,
    segment_references,
)

MAX_PAGE = 500
MAX_EXPLAINED = 100  # people (or companies) explained by one request
# Entries of one evaluation that keep their explanation (a first evaluation of a large segment enters
# everyone at once; the explanation of each would cost as much as the evaluation itself).
MAX_EXPLAINED_ENTRIES = 10_000
Row = dict[str, Any]


class SegmentError(AccountGraphError, ValueError):
    """A segment operation that cannot be done, with the reason."""

    default_code = ErrorCode.VALIDATION_FAILED


def subject_of(segment: Row) -> str:
    """What a saved segment selects: people, or companies for an account audience (segments saved
    before account audiences existed hold no subject: they are on people)."""
    subject: str = segment.get("subject") or Subject.PERSON
    return subject


def saved_rule(segment: Row) -> Rule:
    """A saved segment's rule, parsed for its subject."""
    return parse_rule(json.loads(segment["rule"]), subject_of(segment))


async def _saved_rules(graph: Graph, rule: Rule) -> dict[str, SavedRule]:
    """The rules of every saved segment this rule builds on, transitively."""
    rules: dict[str, SavedRule] = {}
    wanted = segment_references(rule)
    while wanted:
        rows = await graph.run(Q.SEGMENTS_BY_ID, ids=sorted(wanted))
        for row in rows:
            rules[row["id"]] = SavedRule(subject_of(row["segment"]), saved_rule(row["segment"]))
        missing = wanted - {row["id"] for row in rows}
        if missing:
            # The rule's own reference is named by its path; one inside a saved rule, as segment.id.
            path = next((p for p, id in segment_reference_paths(rule) if id in missing), "segment.id")
            raise RuleError(path, f"no saved segment with id {sorted(missing)[0]!r}")
        wanted = set().union(*(segment_references(rules[i].rule) for i in wanted)) - set(rules)
    return rules


async def compile_for(graph: Graph, rule: Rule, own_id: str | None = None,
                      subject: str = Subject.PERSON) -> Compiled:
    saved = await _saved_rules(graph, rule)
    return compile_rule(rule, saved.__getitem__, own_id, subject)


async def compile_saved(graph: Graph, segment: Row) -> Compiled:
    """A saved segment's rule, compiled for its subject."""
    return await compile_for(graph, saved_rule(segment), segment["id"], subject_of(segment))


def page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise SegmentError(f"first: must be from 1 to {MAX_PAGE}")
    return first


async def count(graph: Graph, compiled: Compiled) -> int:
    rows = await graph.run_template(compiled.render(Template.SEGMENT_COUNT), **compiled.parameters)
    members: int = rows[0]["count"]
    return members


async def _members(graph: Graph, compiled: Compiled, limit: int, after: str | None) -> list[Row]:
    parameters = {**compiled.parameters, "first": limit, "after": after}
    return await graph.run_template(compiled.render(Template.SEGMENT_MEMBERS), **parameters)


async def members(graph: Graph, compiled: Compiled, first: int, after: str | None) -> tuple[list[Row], bool]:
    """A page of members in email order (an account audience's companies: id order) after `after`, each
    with the evidence of every condition, and whether more follow."""
    rows = await _members(graph, compiled, page_size(first) + 1, after)
    return rows[:first], len(rows) > first


async def current_members(graph: Graph, segment_id: str, first: int, after: str | None,
                          search: str | None = None) -> tuple[list[Row], bool]:
    """A page of a saved segment's members as of its last evaluation (the live loop keeps it current),
    in email order after `after`, and whether more follow: a read of the stored membership, no evaluation.
    search: only members whose email contains it (case does not matter), or of the company with that id."""
    rows = await graph.run(Q.SEGMENT_MEMBER_PAGE, id=segment_id, first=page_size(first) + 1, after=after,
                           search=search)
    people = rows[0]["people"]
    return people[:first], len(people) > first


async def current_companies(graph: Graph, segment_id: str, first: int, after: str | None,
                            search: str | None = None) -> tuple[list[str], bool]:
    """A page of a saved account audience's companies as of its last evaluation (kept current live), in
    id order after `after`, and whether more follow: a read of the stored membership.
    search: only companies whose id, or the name of one of their accounts, contains it (case does not matter)."""
    rows = await graph.run(Q.AUDIENCE_MEMBER_PAGE, id=segment_id, first=page_size(first) + 1, after=after,
                           search=search)
    ids: list[str] = rows[0]["companyIds"]
    return ids[:first], len(ids) > first


async def explain(graph: Graph, compiled: Compiled, ids: list[str]) -> list[Row]:
    """The evidence of every condition for the given people (emails; an account audience: company ids),
    members or not, as a member page gives it; those the graph does not hold are left out."""
    if len(ids) > MAX_EXPLAINED:
        raise SegmentError(f"at most {MAX_EXPLAINED} to explain at once")
    parameter = "companyIds" if compiled.subject == Subject.COMPANY else "emails"
    return await graph.run_template(compiled.render(Template.SEGMENT_EXPLAIN), **compiled.parameters,
                                    **{parameter: ids})


async def all_members(graph: Graph, compiled: Compiled, limit: int) -> list[Row]:
    """Every member up to `limit`, for presets that answer in one list."""
    return await _members(graph, compiled, limit, None)


async def companies(graph: Graph, compiled: Compiled, first: int) -> list[Row]:
    parameters = {**compiled.parameters, "first": page_size(first)}
    return await graph.run_template(compiled.render(Template.SEGMENT_COMPANIES), **parameters)


@dataclass(frozen=True)
class SegmentDraft:
    name: str
    description: str
    rule_json: str
    uses: list[str]


async def draft(graph: Graph, name: str, description: str, rule_data: Any, own_id: str | None = None,
                subject: str = Subject.PERSON) -> SegmentDraft:
    """Check a segment before it is saved: its name, and a rule on its subject that parses and compiles."""
    name = name.strip()
    if not name or len(name) > 200:
        raise SegmentError("a segment name must have 1 to 200 characters")
    if len(description) > 2000:
        raise SegmentError("a description may have at most 2000 characters")
    rule = parse_rule(rule_data, subject)
    await compile_for(graph, rule, own_id, subject)
    return SegmentDraft(name, description, json.dumps(rule_data, sort_keys=True), sorted(segment_references(rule)))


async def evaluate(graph: Graph, segment_id: str) -> Row:
    """Evaluate a saved segment now and record the snapshot (entered, left), each entry with its
    explanation of this moment, in one transaction."""
    rows = await graph.run(Q.SEGMENTS_BY_ID, ids=[segment_id])
    if not rows:
        raise SegmentError(f"no saved segment with id {segment_id!r}", code=ErrorCode.NOT_FOUND)
    compiled = await compile_saved(graph, rows[0]["segment"])

    async def work(tx: Transaction) -> Row:
        result = await tx.run_template(compiled.render(Template.SEGMENT_EVALUATE), **compiled.parameters,
                                       segmentId=segment_id)
        evaluation: Row = result[0]["evaluation"]
        await explain_entries(tx, compiled, evaluation["id"],
                              evaluation["enteredPeople"] or evaluation["enteredCompanies"])
        return evaluation

    return await graph.write_work(work)


async def explain_entries(tx: Transaction, compiled: Compiled, evaluation_id: str, entered: list[str],
                          explain: Rendered | None = None) -> None:
    """Keep with each entry of the evaluation (the first MAX_EXPLAINED_ENTRIES) why the person (or the
    company, in an account audience) entered, as the rule's evidence says now: what `wasMember` answers
    once the data has moved on. `entered`: emails, or company ids."""
    if not entered:
        return
    key, parameter = ("companyId", "companyIds") if compiled.subject == Subject.COMPANY else ("email", "emails")
    rows = await tx.run_template(explain or compiled.render(Template.SEGMENT_EXPLAIN), **compiled.parameters,
                                 **{parameter: entered[:MAX_EXPLAINED_ENTRIES]})
    await tx.run(Q.ENTRIES_EXPLAIN, id=evaluation_id,
                 explanations=[{key: row[key], "explanation": snapshot.dumps(row["evidence"])} for row in rows])


async def company_membership_at(graph: Graph, segment_id: str, company_id: str, at: datetime) -> Row | None:
    """Whether the company was in the saved account audience at `at` (as membership_at); for a segment
    of people, which of the company's people (as linked now) were in it, each with since, until and the
    explanation kept when they entered. None: no such segment."""
    segments = await graph.run(Q.SEGMENTS_BY_ID, ids=[segment_id])
    if not segments:
        return None
    if subject_of(segments[0]["segment"]) == Subject.COMPANY:
        itself = await membership_at(graph, segment_id, at, company_id=company_id)
        if itself is None:  # deleted meanwhile
            return None
        return {"knownCompany": itself["knownPerson"], "members": [], "historyFrom": itself["historyFrom"],
                "itself": itself}
    rows = await graph.run(Q.SEGMENT_COMPANY_MEMBERSHIP_AT, segmentId=segment_id, companyId=company_id, at=at)
    row = rows[0]
    members = [{**member, "member": True, "historyFrom": row["historyFrom"], "knownPerson": True,
                "explanation": snapshot.loads(member["explanation"]) if member["explanation"] else None}
               for member in row["members"]]
    return {"knownCompany": row["known"], "members": members, "historyFrom": row["historyFrom"], "itself": None}


async def membership_at(graph: Graph, segment_id: str, at: datetime, email: str | None = None,
                        company_id: str | None = None) -> Row | None:
    """Whether the person (or the company, in an account audience) was in the saved segment at `at`, from
    its history (None: no such segment): since when, until when, and the explanation kept at entry."""
    rows = await graph.run(Q.SEGMENT_MEMBERSHIP_AT, segmentId=segment_id, email=email, companyId=company_id, at=at)
    if not rows:
        return None
    row = rows[0]
    member = row["last"] == "ENTERED"
    return {"member": member, "since": row["lastAt"] if member else None, "until": row["leftAt"] if member else None,
            "explanation": snapshot.loads(row["explanation"]) if member and row["explanation"] else None,
            "historyFrom": row["historyFrom"], "knownPerson": row["known"]}
