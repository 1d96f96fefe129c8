from __future__ import annotations

from typing import Any

import strawberry

from service.api.account import Account


@strawberry.type(description="One real-world company: accounts joined by MDM SAME_COMPANY links, transitively.")
class Company:
    id: strawberry.ID = strawberry.field(description="The first of its accounts, as 'source/sourceKey'.")
    accounts: list[Account]
    won_total: float = strawberry.field(description="Sum of closed-won opportunity amounts, each counted once.")
    open_pipeline: float = strawberry.field(description="Sum of amounts of opportunities not yet closed.")
    opportunity_count: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Company:
        accounts = sorted((Account.from_row(a) for a in row["accounts"]), key=lambda a: (a.source, a.source_key))
        return cls(
            id=strawberry.ID(f"{accounts[0].source}/{accounts[0].source_key}"),
            accounts=accounts,
            won_total=row["wonTotal"],
            open_pipeline=row["openPipeline"],
            opportunity_count=row["opportunityCount"],
        )
