from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from service.api import typed
from service.api.activation import Destination
from service.api.audience import Audience
from service.api.campaign import Campaign, MarketingList
from service.api.company import Account, Company, company_by_id
from service.api.context import Context
from service.api.permissions import needs
from service.api.person import Person
from service.api.rule import RuleInput, rule_data
from service.api.segment import CompanyMembershipAsOf, MembershipAsOf, RulePreview, Segment
from service.auth.keys import Scope
from service.queries import Q
from service.segments import engine, presets
from service.segments.engine import SegmentError
from service.segments.rules import Subject, parse_rule
from service.text import normalised_email


@strawberry.type
class Query:
    @typed.field(extensions=needs(Scope.READ), description=(
        "People of every company whose closed-won opportunities, summed over all its SAME_COMPANY-linked "
        "accounts, exceed minCompanyWonAmount, and who visited visitedPage in the last withinDays days."
    ))
    async def audience(
        self, info: strawberry.Info[Context, None],
        min_company_won_amount: float, visited_page: str, within_days: int,
    ) -> Audience:
        return Audience(compiled=await presets.compile_audience(
            info.context.graph, min_company_won_amount, visited_page, within_days))

    @typed.field(extensions=needs(Scope.READ),
                 description="A person by email (case and surrounding spaces do not matter).")
    async def person(self, info: strawberry.Info[Context, None], email: str) -> Person | None:
        try:
            normalised = normalised_email(email)
        except ValueError:
            return None
        row = await info.context.loaders.person.load(normalised)
        return Person.from_row(row) if row else None

    @typed.field(extensions=needs(Scope.READ), description="An account by its source system and that system's id.")
    async def account(self, info: strawberry.Info[Context, None], source: str, source_key: str) -> Account | None:
        row = await info.context.loaders.account.load((source, source_key))
        return Account.from_row(row) if row else None

    @typed.field(extensions=needs(Scope.READ),
                 description="A company by id (the smallest 'source/sourceKey' of its accounts).")
    async def company(self, info: strawberry.Info[Context, None], id: strawberry.ID) -> Company | None:
        return await company_by_id(info, str(id))

    @typed.field(extensions=needs(Scope.READ), description="A campaign by its source system and that system's id.")
    async def campaign(self, info: strawberry.Info[Context, None], source: str, source_key: str) -> Campaign | None:
        row = await info.context.loaders.campaign.load((source, source_key))
        return Campaign.from_row(row) if row else None

    @typed.field(extensions=needs(Scope.READ),
                 description="A marketing list by its source system and that system's id.")
    async def marketing_list(self, info: strawberry.Info[Context, None], source: str,
                             source_key: str) -> MarketingList | None:
        row = await info.context.loaders.marketing_list.load((source, source_key))
        return MarketingList.from_row(row) if row else None

    @typed.field(extensions=needs(Scope.READ),
                 description="Evaluate a rule without saving it: count, members with explanations, companies. "
                             "subject COMPANY evaluates an account audience's rule (members are `accounts`).")
    async def preview(self, info: strawberry.Info[Context, None], rule: RuleInput,
                      subject: Subject = Subject.PERSON) -> RulePreview:
        compiled = await engine.compile_for(info.context.graph, parse_rule(rule_data(rule), subject), None, subject)
        return RulePreview(compiled=compiled)

    @typed.field(extensions=needs(Scope.READ), description="A saved segment by id.")
    async def segment(self, info: strawberry.Info[Context, None], id: strawberry.ID) -> Segment | None:
        rows = await info.context.graph.run(Q.SEGMENTS_BY_ID, ids=[str(id)])
        return Segment.from_row(rows[0]["segment"]) if rows else None

    @typed.field(extensions=needs(Scope.READ), description="Every saved segment, by name.")
    async def segments(self, info: strawberry.Info[Context, None]) -> list[Segment]:
        return [Segment.from_row(row["segment"]) for row in await info.context.graph.run(Q.SEGMENTS_ALL)]

    @typed.field(extensions=needs(Scope.READ), description=(
        "Whether a person (by email) was in a saved segment at a moment, from its history, and why: the "
        "explanation kept when they entered. None when there is no such segment."))
    async def was_member(self, info: strawberry.Info[Context, None], segment_id: strawberry.ID, email: str,
                         at: datetime) -> MembershipAsOf | None:
        try:
            normalised = normalised_email(email)
        except ValueError:
            raise SegmentError("email: not an email address") from None
        moment = at if at.tzinfo else at.replace(tzinfo=UTC)
        row = await engine.membership_at(info.context.graph, str(segment_id), moment, email=normalised)
        return MembershipAsOf.from_row(str(segment_id), normalised, moment, row) if row else None

    @typed.field(extensions=needs(Scope.READ), description=(
        "Whether a company was in a saved account audience at a moment, and why (the explanation kept when it "
        "entered); for a segment of people, which of its people (as linked to it now) were members then, and "
        "why. From the segment's history; None when there is no such segment."))
    async def company_was_member(self, info: strawberry.Info[Context, None], segment_id: strawberry.ID,
                                 company_id: strawberry.ID, at: datetime) -> CompanyMembershipAsOf | None:
        moment = at if at.tzinfo else at.replace(tzinfo=UTC)
        row = await engine.company_membership_at(info.context.graph, str(segment_id), str(company_id), moment)
        return CompanyMembershipAsOf.from_row(str(segment_id), str(company_id), moment, row) if row else None

    @typed.field(extensions=needs(Scope.ADMIN),
                 description="The configured destinations (a webhook URL can be a secret of its own).")
    async def destinations(self, info: strawberry.Info[Context, None]) -> list[Destination]:
        return [Destination.from_row(row["destination"]) for row in await info.context.graph.run(Q.DESTINATIONS_ALL)]
