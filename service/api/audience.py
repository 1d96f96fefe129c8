from __future__ import annotations

import math
from typing import Any

import strawberry

from service.api.account import Account
from service.api.visit import WebVisit

MAX_WITHIN_DAYS = 3660
MAX_PAGE_LENGTH = 2048


class InvalidArgument(ValueError):
    """A GraphQL argument out of range; the message names the argument."""


@strawberry.type(description="A person in the audience, with what made them qualify.")
class AudienceMember:
    email: str
    company_won_total: float = strawberry.field(
        description="Closed-won total of the person's qualifying company, over all its linked accounts."
    )
    accounts: list[Account] = strawberry.field(description="The person's accounts in qualifying companies.")
    visits: list[WebVisit] = strawberry.field(description="The qualifying visits to the page, in the window.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AudienceMember:
        return cls(
            email=row["email"],
            company_won_total=row["companyWonTotal"],
            accounts=sorted((Account.from_row(a) for a in row["accounts"]), key=lambda a: (a.source, a.source_key)),
            visits=sorted((WebVisit.from_row(v) for v in row["visits"]), key=lambda v: v.visited_at, reverse=True),
        )


@strawberry.type(description="The people who qualify for an audience rule.")
class Audience:
    count: int
    people: list[AudienceMember]


def audience_parameters(min_company_won_amount: float, visited_page: str, within_days: int) -> dict[str, Any]:
    """Check the arguments and return them as the audience query's parameters."""
    if not math.isfinite(min_company_won_amount) or min_company_won_amount < 0:
        raise InvalidArgument("minCompanyWonAmount must be a finite amount >= 0")
    page = visited_page.strip()
    if not page:
        raise InvalidArgument("visitedPage must not be empty")
    if len(page) > MAX_PAGE_LENGTH:
        raise InvalidArgument(f"visitedPage may have at most {MAX_PAGE_LENGTH} characters")
    if not 0 < within_days <= MAX_WITHIN_DAYS:
        raise InvalidArgument(f"withinDays must be between 1 and {MAX_WITHIN_DAYS}")
    return {"minWon": float(min_company_won_amount), "page": page, "withinDays": within_days}
