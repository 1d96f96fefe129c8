"""Link suggestions for the data steward (docs/stewardship.md): pairs of companies that evidence in the
graph (the same website domain, the same normalised name, people of the same email domain) says may
be one company, never linked automatically.

One suggestion per pair of companies, computed in one read (stewardship/link_suggestions) with its
evidence, score and merged figures. Accepting one writes a SAME_COMPANY link through the import's own
write path (service.ingest.writer: regroup, refigure, mark people), so live audiences move as for an
MDM link; its source is `steward:<who>`. Rejecting one records NOT_SAME_COMPANY between its accounts,
so they are not suggested again. What a suggestion would do to saved segments is found by doing it in
a write transaction that is always rolled back.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from service.database import Graph, Transaction
from service.errors import AccountGraphError, ErrorCode
from service.ingest.writer import Step, write_steps
from service.queries import Q, Template
from service.segments.engine import compile_saved, page_size
from service.segments.rules import Subject

Row = dict[str, Any]
ID_PREFIX = "ls_"
STEWARD_SOURCE = "steward:"  # a link's source: 'steward:' and who accepted it
LINK_ID_PREFIX = "steward/"  # a steward link's id (its mdmId): never an id MDM gives
FIGURES = ("wonSum", "wonCount", "openSum", "openCount", "lostSum", "lostCount")


class SuggestionError(AccountGraphError, ValueError):
    """A suggestion that cannot be found, accepted or rejected, with the reason."""

    default_code = ErrorCode.VALIDATION_FAILED


def suggestion_id(company_a: str, company_b: str) -> str:
    """A suggestion's id: its pair of companies (ids sorted), as opaque text."""
    text = json.dumps(sorted([company_a, company_b]), separators=(",", ":"))
    return ID_PREFIX + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def companies_of(id: str) -> tuple[str, str]:
    """The pair of companies a suggestion id names; a SuggestionError for text that is no such id."""
    try:
        if not id.startswith(ID_PREFIX):
            raise ValueError
        body = id[len(ID_PREFIX):]
        pair = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if isinstance(pair, list) and len(pair) == 2 and all(isinstance(c, str) for c in pair):
            return pair[0], pair[1]
    except (ValueError, binascii.Error, UnicodeDecodeError):
        pass
    raise SuggestionError(f"{id!r} is not a link suggestion id")


@dataclass(frozen=True)
class Suggestion:
    """A candidate link between two companies: evidence by pair of accounts, the score, the figures of
    each company now and of the company they would make."""

    id: str
    score: float
    kinds: list[str]
    pairs: list[Row]
    companies: list[Row]
    merged: Row

    @classmethod
    def from_row(cls, row: Row) -> Suggestion:
        a, b = row["companies"]
        return cls(suggestion_id(a["id"], b["id"]), row["score"], row["kinds"], row["pairs"], row["companies"],
                   merged(a, b, row["mergedPeople"]))


def merged(a: Row, b: Row, people: int) -> Row:
    """The figures of the company two would make: each deal belongs to one account, so sums and counts
    add up; its id is the smaller one (a company's id is the smallest key of its accounts)."""
    figures: Row = {name: (a.get(name) or 0) + (b.get(name) or 0) for name in FIGURES}
    maxima = [m for m in (a.get("wonMax"), b.get("wonMax")) if m is not None]
    return {**figures, "id": min(a["id"], b["id"]), "wonMax": max(maxima) if maxima else None,
            "accounts": a["accounts"] + b["accounts"], "people": people}


async def suggestions(graph: Graph, first: int, min_score: float) -> list[Suggestion]:
    """The best `first` suggestions with a score of at least `min_score`, best first."""
    if not 0.0 <= min_score <= 1.0:
        raise SuggestionError("minScore: must be from 0 to 1")
    rows = await graph.run(Q.LINK_SUGGESTIONS, companyIds=None, minScore=min_score, first=page_size(first))
    return [Suggestion.from_row(row) for row in rows]


async def suggestion(graph: Graph, id: str) -> Suggestion | None:
    """The suggestion as the graph has it now (None: the companies are one, gone, or it was rejected)."""
    company_a, company_b = companies_of(id)
    if company_a == company_b:
        return None
    rows = await graph.run(Q.LINK_SUGGESTIONS, companyIds=[company_a, company_b], minScore=0.0, first=1)
    return Suggestion.from_row(rows[0]) if rows else None


async def _found(graph: Graph, id: str) -> Suggestion:
    found = await suggestion(graph, id)
    if found is None:
        raise SuggestionError(f"no link suggestion {id!r} now: its companies are one already, or gone, "
                              "or it was rejected", code=ErrorCode.NOT_FOUND)
    return found


async def _link(tx: Transaction, found: Suggestion, source: str, link_id: str, at: datetime, mark: bool) -> None:
    """Link the suggestion's best pair of accounts as MDM links are written: the link, then the companies
    regrouped and refigured, and (with `mark`) their people marked for the live loop."""
    best = found.pairs[0]
    row = {"mdmId": link_id, "sourceA": best["a"]["source"], "keyA": best["a"]["sourceKey"],
           "sourceB": best["b"]["source"], "keyB": best["b"]["sourceKey"], "updatedAt": at}
    await write_steps(tx, source, [Step(Q.SAME_COMPANY_UPSERT, [row])], at, mark, True)


@dataclass(frozen=True)
class Accepted:
    link_id: str
    source: str
    company_id: str
    suggestion: Suggestion


async def accept(graph: Graph, id: str, who: str, by: str) -> Accepted:
    """Make the suggested link: source `steward:<who>`, with `by` (an API key's id), when, and the
    evidence and score on it. The companies regroup and live audiences update as for an MDM link."""
    found = await _found(graph, id)
    mark = bool(await graph.run(Q.SEGMENTS_EXIST))
    source = STEWARD_SOURCE + who
    link_id = LINK_ID_PREFIX + str(uuid4())
    now = datetime.now(UTC)
    at = now.replace(microsecond=now.microsecond // 1000 * 1000)  # as the link's updatedAt keeps it: milliseconds

    async def work(tx: Transaction) -> None:
        await _link(tx, found, source, link_id, at, mark)
        await tx.run(Q.LINK_ACCEPT, linkId=link_id, by=by, at=at, score=found.score,
                     evidence=json.dumps(found.pairs[0], sort_keys=True))

    await graph.write_work(work)
    return Accepted(link_id, source, found.merged["id"], found)


async def reject(graph: Graph, id: str, by: str, reason: str) -> int:
    """Record that the suggestion's companies are not one: NOT_SAME_COMPANY between each of its pairs
    of accounts (how many), so that none of them is suggested again."""
    if len(reason) > 2000:
        raise SuggestionError("reason: at most 2000 characters")
    found = await _found(graph, id)
    pairs = [{end: {"source": p[end]["source"], "sourceKey": p[end]["sourceKey"]} for end in ("a", "b")}
             for p in found.pairs]
    rows = await graph.run(Q.LINK_REJECT, pairs=pairs, by=by, reason=reason, at=datetime.now(UTC))
    rejected: int = rows[0]["rejected"]
    return rejected


class _Rehearsed(Exception):
    """The answer of a rehearsal, raised to roll its transaction back."""

    def __init__(self, moves: list[Row]) -> None:
        self.moves = moves


async def impact(graph: Graph, found: Suggestion) -> list[Row]:
    """Which saved segments the link would move which people (and account audiences which companies)
    into or out of: the link made, companies regrouped and refigured and the people of both companies
    and the companies themselves evaluated against every saved segment, in a write transaction that is
    then rolled back. Before the link the same people and companies are evaluated first (in that
    transaction), so only the link's own effect is answered, not changes waiting for the live loop.
    The company the link absorbs into the other is gone with its memberships, not listed as leaving."""
    segments = await graph.run(Q.SEGMENTS_RULES)
    if not segments:
        return []
    prepared = []
    for segment in segments:
        compiled = await compile_saved(graph, segment)
        prepared.append((segment, compiled, compiled.render(Template.SEGMENT_EVALUATE_PEOPLE)))
    ids = [company["id"] for company in found.companies]

    async def evaluate(tx: Transaction, emails: list[str]) -> dict[str, Row]:
        moves: dict[str, Row] = {}
        for segment, compiled, rendered in prepared:
            on_companies = compiled.subject == Subject.COMPANY
            subjects = {"companyIds": ids} if on_companies else {"emails": emails}
            for row in await tx.run_template(rendered, **compiled.parameters, **subjects, segmentId=segment["id"]):
                entered, left = sorted(row["entered"]), sorted(row["left"])
                moves[segment["id"]] = {"segmentId": segment["id"], "name": segment["name"],
                                        "entered": [] if on_companies else entered,
                                        "left": [] if on_companies else left,
                                        "enteredCompanies": entered if on_companies else [],
                                        "leftCompanies": left if on_companies else []}
        return moves

    async def work(tx: Transaction) -> None:
        people = await tx.run(Q.PEOPLE_OF_COMPANIES, companyIds=ids)
        emails = sorted({email for row in people for email in row["emails"]})
        await evaluate(tx, emails)  # the memberships as the graph says now, before the link
        await _link(tx, found, STEWARD_SOURCE + "rehearsal", LINK_ID_PREFIX + "rehearsal", datetime.now(UTC), False)
        moves = await evaluate(tx, emails)
        raise _Rehearsed(sorted(moves.values(), key=lambda move: (move["name"], move["segmentId"])))

    try:
        await graph.write_work(work)
    except _Rehearsed as rehearsed:
        return rehearsed.moves
    raise AssertionError("a rehearsal always rolls back")  # pragma: no cover
