from __future__ import annotations

import strawberry

from service.api.company import Account
from service.api.visit import WebVisit
from service.segments.presets import AudienceRow


@strawberry.type(description="A person in the audience, with what made them qualify.")
class AudienceMember:
    email: str
    company_won_total: float = strawberry.field(
        description="Closed-won total of the person's qualifying company, over all its linked accounts."
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
    count: int
    people: list[AudienceMember]
