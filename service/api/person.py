from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from service.api import typed
from service.api.campaign import Campaign, CampaignMembership, ListMembership, MarketingList
from service.api.company import Account, Company, ContactRole, companies_by_id
from service.api.contact import Contact
from service.api.context import Context
from service.api.source_record import SourceRecord
from service.api.visit import WebVisit


@strawberry.type(description="A saved segment a person is in, or an entry or exit in their history.")
class SegmentMembership:
    segment_id: strawberry.ID = strawberry.field(description="The saved segment's id.")
    segment_name: str = strawberry.field(description="The saved segment's name.")
    since: datetime | None = strawberry.field(default=None, description=(
        "Current segments: when the person entered it (ISO 8601 date-time, UTC)."))
    change: str | None = strawberry.field(default=None, description="ENTERED or LEFT, in history.")
    at: datetime | None = strawberry.field(default=None, description=(
        "History: when the entry or exit happened (ISO 8601 date-time, UTC)."))


@strawberry.type(description="A person, one node across every source, identified by normalised email.")
class Person:
    email: str = strawberry.field(description=(
        "The person's email address, their identity (normalised: lower case, trimmed)."))
    first_name: str | None = strawberry.field(description="First name, as the source imported last gives it.")
    last_name: str | None = strawberry.field(description="Last name, as the source imported last gives it.")
    title: str | None = strawberry.field(description="Job title, as the source imported last gives it.")
    # The ids each source knows them by, when the query that found the person brought them (a member
    # page does not: most pages do not ask for them).
    known_as_rows: strawberry.Private[list[dict[str, str]] | None] = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Person:
        return cls(email=row["email"], first_name=row.get("firstName"), last_name=row.get("lastName"),
                   title=row.get("title"), known_as_rows=row.get("knownAs"))

    @typed.field(description="The id each source system knows the person by.")
    async def known_as(self, info: strawberry.Info[Context, None]) -> list[SourceRecord]:
        rows = self.known_as_rows
        if rows is None:
            person = await info.context.loaders.person.load(self.email)
            rows = person["knownAs"] if person else []
        return [SourceRecord.from_row(row) for row in rows]

    def contact(self) -> Contact:
        return Contact(email=self.email, first_name=self.first_name, last_name=self.last_name, title=self.title)

    @typed.field(description="The person's accounts in every source.")
    async def accounts(self, info: strawberry.Info[Context, None]) -> list[Account]:
        rows = await info.context.loaders.accounts_of_person.load(self.email)
        return [Account.from_row(row) for row in rows]

    @typed.field(description="The companies of the person's accounts, each once.")
    async def companies(self, info: strawberry.Info[Context, None]) -> list[Company]:
        accounts = await info.context.loaders.accounts_of_person.load(self.email)
        return await companies_by_id(info, sorted({a["companyId"] for a in accounts if a["companyId"]}))

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

    @typed.field(description="The person's contact roles on deals (CONTACT_FOR), largest deal first.")
    async def contact_roles(self, info: strawberry.Info[Context, None]) -> list[ContactRole]:
        rows = await info.context.loaders.contact_roles_of_person.load(self.email)
        return [ContactRole.of_person(row, self.contact()) for row in rows]

    @typed.field(description="The campaigns the person is a member of, with their member status.")
    async def campaigns(self, info: strawberry.Info[Context, None]) -> list[CampaignMembership]:
        rows = await info.context.loaders.campaigns_of_person.load(self.email)
        return [CampaignMembership(campaign=Campaign.from_row(row["campaign"]), person=self.contact(),
                                   status=row["status"]) for row in rows]

    @typed.field(description="The marketing lists the person is on.")
    async def lists(self, info: strawberry.Info[Context, None]) -> list[ListMembership]:
        rows = await info.context.loaders.lists_of_person.load(self.email)
        return [ListMembership(marketing_list=MarketingList.from_row(row["list"]), person=self.contact())
                for row in rows]
