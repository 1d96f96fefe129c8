from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from service.api import typed
from service.api.company import Account, Company
from service.api.context import Context
from service.api.source_record import SourceRecord
from service.api.visit import WebVisit


@strawberry.type(description="A saved segment a person is in, or an entry or exit in their history.")
class SegmentMembership:
    segment_id: strawberry.ID
    segment_name: str
    since: datetime | None = None
    change: str | None = strawberry.field(default=None, description="ENTERED or LEFT, in history.")
    at: datetime | None = None


@strawberry.type(description="A person, one node across every source, identified by normalised email.")
class Person:
    email: str
    first_name: str | None
    last_name: str | None
    title: str | None
    known_as: list[SourceRecord]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Person:
        return cls(email=row["email"], first_name=row.get("firstName"), last_name=row.get("lastName"),
                   title=row.get("title"),
                   known_as=[SourceRecord.from_row(k) for k in row["knownAs"]])

    @typed.field(description="The person's accounts in every source.")
    async def accounts(self, info: strawberry.Info[Context, None]) -> list[Account]:
        rows = await info.context.loaders.accounts_of_person.load(self.email)
        return [Account.from_row(row) for row in rows]

    @typed.field(description="The companies of the person's accounts, each once.")
    async def companies(self, info: strawberry.Info[Context, None]) -> list[Company]:
        loaders = info.context.loaders
        accounts = await loaders.accounts_of_person.load(self.email)
        ids = sorted({a["companyId"] for a in accounts if a["companyId"]})
        return [Company.from_row(row) for row in await loaders.company.load_many(ids) if row]

    @typed.field(description="The saved segments the person is in now, since their last evaluation.")
    async def segments(self, info: strawberry.Info[Context, None]) -> list[SegmentMembership]:
        rows = (await info.context.loaders.segments_of_person.load(self.email))["current"]
        return [SegmentMembership(segment_id=strawberry.ID(r["id"]), segment_name=r["name"],
                                  since=r["since"].to_native())
                for r in rows]

    @typed.field(description="When the person entered and left saved segments, newest first.")
    async def segment_history(self, info: strawberry.Info[Context, None]) -> list[SegmentMembership]:
        rows = (await info.context.loaders.segments_of_person.load(self.email))["history"]
        return [SegmentMembership(segment_id=strawberry.ID(r["id"]), segment_name=r["name"], change=r["change"],
                                  at=r["at"].to_native()) for r in rows]

    @typed.field(description="The person's web visits, newest first.")
    async def visits(self, info: strawberry.Info[Context, None]) -> list[WebVisit]:
        return [WebVisit.from_row(row) for row in await info.context.loaders.visits_of_person.load(self.email)]
