"""Accounts and the companies they form. The two types refer to each other (an account's company,
a company's accounts), so they live in one module rather than importing each other."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from service.api import typed
from service.api.context import Context
from service.api.source_record import SourceRecord


def _native(value: Any) -> datetime | None:
    return value.to_native() if value is not None else None


@strawberry.type(description="An account as one source system records it; a company may have several.")
class Account:
    source: str
    source_key: str
    name: str | None
    industry: str | None
    country: str | None
    role: str | None = strawberry.field(
        default=None, description="The person's role at this account, where reached from a person."
    )
    company_id: strawberry.Private[str | None] = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Account:
        return cls(source=row["source"], source_key=row["sourceKey"], name=row.get("name"),
                   industry=row.get("industry"), country=row.get("country"), role=row.get("role"),
                   company_id=row.get("companyId"))

    @typed.field(description="Every source that exports this account, under its own id there: the system of record "
                             "(`source`, `sourceKey`) and each source holding a synced copy.")
    async def known_as(self, info: strawberry.Info[Context, None]) -> list[SourceRecord]:
        rows = await info.context.loaders.known_as_of_account.load((self.source, self.source_key))
        return [SourceRecord.from_row(row) for row in rows]

    @typed.field(description="The company: this account and every account linked to it by SAME_COMPANY.")
    async def company(self, info: strawberry.Info[Context, None]) -> Company | None:
        row = await info.context.loaders.company.load(self.company_id) if self.company_id else None
        return Company.from_row(row) if row else None


@strawberry.type(description="An MDM record saying two accounts are the same company: the lineage of a company.")
class MdmLink:
    mdm_id: str
    source: str
    from_account: Account
    to_account: Account
    updated_at: datetime | None = strawberry.field(description="When MDM last changed the record, if it says.")
    first_seen_at: datetime | None
    last_seen_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> MdmLink:
        return cls(mdm_id=row["mdmId"], source=row["source"], from_account=Account.from_row(row["from"]),
                   to_account=Account.from_row(row["to"]), updated_at=_native(row["updatedAt"]),
                   first_seen_at=_native(row["firstSeenAt"]), last_seen_at=_native(row["lastSeenAt"]))


@strawberry.type(description="One real-world company: accounts joined by MDM SAME_COMPANY links, transitively.")
class Company:
    id: strawberry.ID = strawberry.field(description="The smallest 'source/sourceKey' of its accounts.")
    accounts: list[Account]
    won_total: float = strawberry.field(description="Sum of closed-won opportunity amounts, each counted once.")
    open_pipeline: float = strawberry.field(description="Sum of amounts of opportunities not yet closed.")
    opportunity_count: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Company:
        return cls(
            id=strawberry.ID(row["id"]),
            accounts=sorted((Account.from_row(a) for a in row["accounts"]), key=lambda a: (a.source, a.source_key)),
            won_total=row["wonTotal"],
            open_pipeline=row["openPipeline"],
            opportunity_count=row["opportunityCount"],
        )

    @typed.field(description="The MDM links that join this company's accounts (its lineage).")
    async def links(self, info: strawberry.Info[Context, None]) -> list[MdmLink]:
        return [MdmLink.from_row(row) for row in await info.context.loaders.links_of_company.load(str(self.id))]
