"""The foundation's audience as a preset of the rule language."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from service.database import Graph
from service.segments import engine
from service.segments.compiler import Compiled
from service.segments.engine import SegmentError
from service.segments.rules import RuleError, parse_rule

MAX_WITHIN_DAYS = 3660
MAX_PAGE_LENGTH = 2048
MAX_AUDIENCE = 100_000  # the preset answers in one list; larger audiences page through preview or segments


@dataclass(frozen=True)
class AudienceRow:
    email: str
    company_won_total: float
    accounts: list[dict[str, Any]]  # the person's accounts in qualifying companies
    visits: list[dict[str, Any]]  # the qualifying visits


def audience_rule(min_company_won_amount: float, visited_page: str, within_days: int) -> dict[str, Any]:
    """Company closed-won sum above the amount AND a visit to the page in the window."""
    if not math.isfinite(min_company_won_amount) or min_company_won_amount < 0:
        raise RuleError("minCompanyWonAmount", "must be a finite amount >= 0")
    page = visited_page.strip()
    if not page:
        raise RuleError("visitedPage", "must not be empty")
    if len(page) > MAX_PAGE_LENGTH:
        raise RuleError("visitedPage", f"may have at most {MAX_PAGE_LENGTH} characters")
    if not 0 < within_days <= MAX_WITHIN_DAYS:
        raise RuleError("withinDays", f"must be between 1 and {MAX_WITHIN_DAYS}")
    return {"and": [
        {"opportunities": {"aggregate": "SUM", "status": "WON", "op": "GT", "value": float(min_company_won_amount)}},
        {"visits": {"url": page, "match": "EXACT", "withinDays": within_days}},
    ]}


async def compile_audience(graph: Graph, min_company_won_amount: float, visited_page: str,
                           within_days: int) -> Compiled:
    return await engine.compile_for(
        graph, parse_rule(audience_rule(min_company_won_amount, visited_page, within_days)))


async def audience_members(graph: Graph, compiled: Compiled) -> list[AudienceRow]:
    """Every member, in one list; more than MAX_AUDIENCE is an error, never a list cut short. The
    audience is counted first, so that one too large is refused without listing (and explaining) it."""
    if await engine.count(graph, compiled) > MAX_AUDIENCE:
        raise _too_large()
    members = await engine.all_members(graph, compiled, MAX_AUDIENCE + 1)
    if len(members) > MAX_AUDIENCE:  # grown since it was counted
        raise _too_large()
    return [_row(member) for member in members]


def _too_large() -> SegmentError:
    return SegmentError(f"the audience has more than {MAX_AUDIENCE:,} people, more than one answer lists: "
                        "page through preview(rule: ...).members, or save it as a segment")


async def audience(graph: Graph, min_company_won_amount: float, visited_page: str,
                   within_days: int) -> list[AudienceRow]:
    return await audience_members(
        graph, await compile_audience(graph, min_company_won_amount, visited_page, within_days))


def _row(member: dict[str, Any]) -> AudienceRow:
    opportunities, visits = member["evidence"]
    companies = [c for c in opportunities["companies"] if c["matched"]]
    return AudienceRow(
        email=member["email"],
        company_won_total=max(c["value"] for c in companies),
        accounts=sorted((a for c in companies for a in c["accounts"]), key=lambda a: (a["source"], a["sourceKey"])),
        visits=sorted(visits["visits"], key=lambda v: v["visitedAt"], reverse=True),
    )
