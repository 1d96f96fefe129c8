"""Campaigns and marketing lists, with their members a page at a time."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from service.api import typed
from service.api.contact import Contact
from service.api.context import Context, MemberPageKey
from service.api.paging import After, First, decode_cursor, encode_cursor, page_size
from service.api.temporal import native_date


@strawberry.type(description="A campaign (or program) as one source system records it.")
class Campaign:
    source: str = strawberry.field(description="The name of the source system that records it, e.g. `Marketo 1`.")
    source_key: str = strawberry.field(description="The campaign's id in that source.")
    name: str | None = strawberry.field(description="The campaign's name.")
    type: str | None = strawberry.field(description="The campaign's type, as the source gives it (e.g. Webinar).")
    status: str | None = strawberry.field(description="The campaign's own status (a member's is on the membership).")
    start_date: date | None = strawberry.field(description="The campaign's start date (ISO 8601 date, YYYY-MM-DD).")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Campaign:
        return cls(source=row["source"], source_key=row["sourceKey"], name=row.get("name"), type=row.get("type"),
                   status=row.get("status"), start_date=native_date(row.get("startDate")))

    @typed.field(description="A page of the members (at most 500), in email order, with their member status; "
                             "`after` is the endCursor of the page before.")
    async def members(self, info: strawberry.Info[Context, None], first: First = 50,
                      after: After = None) -> CampaignMemberPage:
        key: MemberPageKey = ((self.source, self.source_key), page_size(first), decode_cursor(after))
        page = await info.context.loaders.members_of_campaign.load(key)
        rows = page["rows"]
        return CampaignMemberPage(
            members=[CampaignMembership(campaign=self, person=Contact.from_row(r["person"]), status=r["status"])
                     for r in rows[:first]],
            total_count=page["totalCount"], end_cursor=_end_cursor(rows[:first]), has_next_page=len(rows) > first)


@strawberry.type(description="A static marketing list as one source system records it.")
class MarketingList:
    source: str = strawberry.field(description="The name of the source system that records it, e.g. `Marketo 1`.")
    source_key: str = strawberry.field(description="The list's id in that source.")
    name: str | None = strawberry.field(description="The list's name.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> MarketingList:
        return cls(source=row["source"], source_key=row["sourceKey"], name=row.get("name"))

    @typed.field(description="A page of the people on the list (at most 500), in email order; `after` is the "
                             "endCursor of the page before.")
    async def members(self, info: strawberry.Info[Context, None], first: First = 50,
                      after: After = None) -> ListMemberPage:
        key: MemberPageKey = ((self.source, self.source_key), page_size(first), decode_cursor(after))
        page = await info.context.loaders.members_of_list.load(key)
        rows = page["rows"]
        return ListMemberPage(
            members=[ListMembership(marketing_list=self, person=Contact.from_row(r["person"])) for r in rows[:first]],
            total_count=page["totalCount"], end_cursor=_end_cursor(rows[:first]), has_next_page=len(rows) > first)


@strawberry.type(description="A person's membership of a campaign (MEMBER_OF), with their member status.")
class CampaignMembership:
    campaign: Campaign = strawberry.field(description="The campaign.")
    person: Contact = strawberry.field(description="The member.")
    status: str | None = strawberry.field(description="The member status, e.g. Attended.")


@strawberry.type(description="A person on a marketing list (ON_LIST).")
class ListMembership:
    marketing_list: MarketingList = strawberry.field(description="The list.")
    person: Contact = strawberry.field(description="The person on it.")


@strawberry.type(description="One page of a campaign's members, in email order.")
class CampaignMemberPage:
    members: list[CampaignMembership] = strawberry.field(description="The memberships of this page.")
    total_count: int = strawberry.field(description="How many members the campaign has, on every page.")
    end_cursor: str | None = strawberry.field(description=(
        "An opaque cursor after the page's last member's email: pass it as `after` for the next page; "
        "none when the page is empty."))
    has_next_page: bool = strawberry.field(description="Whether there are more members after this page.")


@strawberry.type(description="One page of a marketing list's members, in email order.")
class ListMemberPage:
    members: list[ListMembership] = strawberry.field(description="The memberships of this page.")
    total_count: int = strawberry.field(description="How many people are on the list, on every page.")
    end_cursor: str | None = strawberry.field(description=(
        "An opaque cursor after the page's last member's email: pass it as `after` for the next page; "
        "none when the page is empty."))
    has_next_page: bool = strawberry.field(description="Whether there are more members after this page.")


def _end_cursor(rows: list[dict[str, Any]]) -> str | None:
    return encode_cursor(rows[-1]["person"]["email"]) if rows else None
