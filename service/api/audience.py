from __future__ import annotations

import strawberry

from service.api import typed
from service.api.company import Account
from service.api.context import Context
from service.api.paging import After, First
from service.api.segment import MemberPage, member_page
from service.api.visit import WebVisit
from service.segments import engine, presets
from service.segments.compiler import Compiled
from service.segments.presets import MAX_AUDIENCE, AudienceRow


@strawberry.type(description="A person in the audience, with what made them qualify.")
class AudienceMember:
    email: str = strawberry.field(description="The person's email address (normalised: lower case, trimmed).")
    company_won_total: float = strawberry.field(
        description=("Closed-won total of the person's qualifying company, over all its linked accounts "
                     "(an amount in the deals' currency, added as imported, without conversion).")
    )
    accounts: list[Account] = strawberry.field(description="The person's accounts in qualifying companies.")
    visits: list[WebVisit] = strawberry.field(description="The qualifying visits to the page, in the window.")

    @classmethod
    def from_row(cls, row: AudienceRow) -> AudienceMember:
        return cls(email=row.email, company_won_total=row.company_won_total,
                   accounts=[Account.from_row(a) for a in row.accounts],
                   visits=[WebVisit.from_row(v) for v in row.visits])


@strawberry.type(description="The people who qualify for an audience rule.")
class Audience:
    compiled: strawberry.Private[Compiled]

    @typed.field(description="How many people qualify: the true size, counted in the graph.")
    async def count(self, info: strawberry.Info[Context, None]) -> int:
        return await engine.count(info.context.graph, self.compiled)

    @typed.field(description=f"Every qualifying person, with what made them qualify; more than {MAX_AUDIENCE:,} "
                             "is an error (page through preview(rule).members instead).")
    async def people(self, info: strawberry.Info[Context, None]) -> list[AudienceMember]:
        rows = await presets.audience_members(info.context.graph, self.compiled)
        return [AudienceMember.from_row(row) for row in rows]

    @typed.field(description="The same people a page at a time (at most 500), in email order, each with an "
                             "explanation; `after` is the endCursor of the page before.")
    async def members(self, info: strawberry.Info[Context, None], first: First = 50,
                      after: After = None) -> MemberPage:
        return await member_page(info, self.compiled, first, after)
