from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from service.api import typed
from service.api.context import Context

if TYPE_CHECKING:
    from service.api.company import Company


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

    @typed.field(description="The company: this account and every account linked to it by SAME_COMPANY.")
    async def company(
        self, info: strawberry.Info[Context, None]
    ) -> Annotated[Company, strawberry.lazy("service.api.company")] | None:
        from service.api.company import Company

        row = await info.context.loaders.company.load(self.company_id) if self.company_id else None
        return Company.from_row(row) if row else None
