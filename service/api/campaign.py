"""Campaigns and marketing lists, with their members a page at a time."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from service.api import typed
from service.api.contact import Contact
from service.api.context import Context, MemberPageKey
from service.api.paging import decode_cursor, encode_cursor, page_size
from service.api.temporal import native_date


@strawberry.type(description="A campaign (or program) as one source system records it.")
class Campaign:
    source: str
    source_key: str
    name: str | None
    type: str | None
    status: str | None = strawberry.field(description="The campaign's own status (a member's is on the membership).")
    start_date: date | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Campaign:
        return cls(source=row["source"], source_key=row["sourceKey"], name=row.get("name"), type=row.get("type"),
                   status=row.get("status"), start_date=native_date(row.get("startDate")))

    @typed.field(description="A page of the members (at most 500), in email order, with their member status; "
                             "`after` is the endCursor of the page before.")
    async def members(self, info: strawberry.Info[Context, None], first: int = 50,
                      after: str | None = None) -> CampaignMemberPage:
        key: MemberPageKey = ((self.source, self.source_key), page_size(first), decode_cursor(after))
        page = await info.context.loaders.members_of_campaign.load(key)
        rows = page["rows"]
        return CampaignMemberPage(
            members=[CampaignMembership(campaign=self, person=Contact.from_row(r["person"]), status=r["status"])
                     for r in rows[:first]],
            total_count=page["totalCount"], end_cursor=_end_cursor(rows[:first]), has_next_page=len(rows) > first)


@strawberry.type(description="A static marketing list as one source system records it.")
class MarketingList:
    source: str
    source_key: str
    name: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> MarketingList:
        return cls(source=row["source"], source_key=row["sourceKey"], name=row.get("name"))

    @typed.field(description="A page of the people on the list (at most 500), in email order; `after` is the "
                             "endCursor of the page before.")
    async def members(self, info: strawberry.Info[Context, None], first: int = 50,
                      after: str | None = None) -> ListMemberPage:
        key: MemberPageKey = ((self.source, self.source_key), page_size(first), decode_cursor(after))
        page = await info.context.loaders.members_of_list.load(key)
        rows = page["rows"]
        return ListMemberPage(
            members=[ListMembership(marketing_list=self, person=Contact.from_row(r["person"])) for r in rows[:first]],
            total_count=page["totalCount"], end_cursor=_end_cursor(rows[:first]), has_next_page=len(rows) > first)


@strawberry.type(description="A person's membership of a campaign (MEMBER_OF), with their member status.")
class CampaignMembership:
    campaign: Campaign
    person: Contact
    status: str | None = strawberry.field(description="The member status, e.g. Attended.")


@strawberry.type(description="A person on a marketing list (ON_LIST).")
class ListMembership:
    marketing_list: MarketingList
    person: Contact


@strawberry.type(description="One page of a campaign's members, in email order.")
class CampaignMemberPage:
    members: list[CampaignMembership]
    total_count: int = strawberry.field(description="How many members the campaign has, on every page.")
    end_cursor: str | None
    has_next_page: bool


@strawberry.type(description="One page of a marketing list's members, in email order.")
class ListMemberPage:
    members: list[ListMembership]
    total_count: int = strawberry.field(description="How many people are on the list, on every page.")
    end_cursor: str | None
    has_next_page: bool


def _end_cursor(rows: list[dict[str, Any]]) -> str | None:
    return encode_cursor(rows[-1]["person"]["email"]) if rows else None
