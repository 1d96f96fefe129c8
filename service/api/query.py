from __future__ import annotations

import strawberry

from service.api.account import Account
from service.api.company import Company
from service.api.audience import Audience, AudienceMember, audience_parameters
from service.api.context import Context
from service.api.person import Person
from service.ingest.fields import email as normalise_email


@strawberry.type
class Query:
    @strawberry.field(description=(
        "People of every company whose closed-won opportunities, summed over all its SAME_COMPANY-linked "
        "accounts, exceed minCompanyWonAmount, and who visited visitedPage in the last withinDays days."
    ))
    async def audience(
        self, info: strawberry.Info[Context, None],
        min_company_won_amount: float, visited_page: str, within_days: int,
    ) -> Audience:
        parameters = audience_parameters(min_company_won_amount, visited_page, within_days)
        rows = await info.context.graph.read("audience", **parameters)
        return Audience(count=len(rows), people=[AudienceMember.from_row(row) for row in rows])

    @strawberry.field(description="A person by email (case and surrounding spaces do not matter).")
    async def person(self, info: strawberry.Info[Context, None], email: str) -> Person | None:
        try:
            normalised = normalise_email(email)
        except ValueError:
            return None
        row = await info.context.loaders.person.load(normalised)
        return Person.from_row(row) if row else None

    @strawberry.field(description="An account by its source system and that system's id.")
    async def account(self, info: strawberry.Info[Context, None], source: str, source_key: str) -> Account | None:
        row = await info.context.loaders.account.load((source, source_key))
        return Account.from_row(row) if row else None

    @strawberry.field(description="A company by id (the smallest 'source/sourceKey' of its accounts).")
    async def company(self, info: strawberry.Info[Context, None], id: strawberry.ID) -> Company | None:
        row = await info.context.loaders.company.load(str(id))
        return Company.from_row(row) if row else None
