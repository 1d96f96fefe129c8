from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

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

Source = Annotated[str, strawberry.argument(description=(
    "The name of the source system, e.g. `CRM 1` or `Marketo 1`."))]
SourceKey = Annotated[str, strawberry.argument(description="The record's id in that source system.")]
At = Annotated[datetime, strawberry.argument(description="The moment asked about (ISO 8601 date-time; no zone: UTC).")]


@strawberry.type
class Query:
    @typed.field(extensions=needs(Scope.READ), description=(
        "People of every company whose closed-won opportunities, summed over all its SAME_COMPANY-linked "
        "accounts, exceed minCompanyWonAmount, and who visited visitedPage in the last withinDays days."
    ))
    async def audience(
        self, info: strawberry.Info[Context, None],
        min_company_won_amount: Annotated[float, strawberry.argument(description=(
            "A company qualifies when the sum of its closed-won deal amounts, over all its linked accounts, is "
            "greater than this (an amount in the deals' currency, added as imported; a finite number >= 0)."))],
        visited_page: Annotated[str, strawberry.argument(description=(
            "The page's URL, compared exactly (case-sensitive) with each visit's URL; at most 2,048 characters."))],
        within_days: Annotated[int, strawberry.argument(description=(
            "The visit window: visited at most this many days ago, from now to the second (days, 1 to 3660)."))],
    ) -> Audience:
        return Audience(compiled=await presets.compile_audience(
            info.context.graph, min_company_won_amount, visited_page, within_days))

    @typed.field(extensions=needs(Scope.READ),
                 description="A person by email (case and surrounding spaces do not matter).")
    async def person(
        self, info: strawberry.Info[Context, None],
        email: Annotated[str, strawberry.argument(description="The person's email address.")],
    ) -> Person | None:
        try:
            normalised = normalised_email(email)
        except ValueError:
            return None
        row = await info.context.loaders.person.load(normalised)
        return Person.from_row(row) if row else None

    @typed.field(extensions=needs(Scope.READ), description="An account by its source system and that system's id.")
    async def account(self, info: strawberry.Info[Context, None], source: Source,
                      source_key: SourceKey) -> Account | None:
        row = await info.context.loaders.account.load((source, source_key))
        return Account.from_row(row) if row else None

    @typed.field(extensions=needs(Scope.READ),
                 description="A company by id (the smallest 'source/sourceKey' of its accounts).")
    async def company(
        self, info: strawberry.Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description=(
            "The company's id: `source/sourceKey` of its smallest account, e.g. `CRM 1/0011A00001`."))],
    ) -> Company | None:
        return await company_by_id(info, str(id))

    @typed.field(extensions=needs(Scope.READ), description="A campaign by its source system and that system's id.")
    async def campaign(self, info: strawberry.Info[Context, None], source: Source,
                       source_key: SourceKey) -> Campaign | None:
        row = await info.context.loaders.campaign.load((source, source_key))
        return Campaign.from_row(row) if row else None

    @typed.field(extensions=needs(Scope.READ),
                 description="A marketing list by its source system and that system's id.")
    async def marketing_list(self, info: strawberry.Info[Context, None], source: Source,
                             source_key: SourceKey) -> MarketingList | None:
        row = await info.context.loaders.marketing_list.load((source, source_key))
        return MarketingList.from_row(row) if row else None

    @typed.field(extensions=needs(Scope.READ),
                 description="Evaluate a rule without saving it: count, members with explanations, companies. "
                             "subject COMPANY evaluates an account audience's rule (members are `accounts`).")
    async def preview(
        self, info: strawberry.Info[Context, None],
        rule: Annotated[RuleInput, strawberry.argument(description="The rule to evaluate.")],
        subject: Annotated[Subject, strawberry.argument(description=(
            "PERSON (default): a person rule, members are people; COMPANY: a company rule, members are companies."
        ))] = Subject.PERSON,
    ) -> RulePreview:
        compiled = await engine.compile_for(info.context.graph, parse_rule(rule_data(rule), subject), None, subject)
        return RulePreview(compiled=compiled)

    @typed.field(extensions=needs(Scope.READ), description="A saved segment by id.")
    async def segment(
        self, info: strawberry.Info[Context, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The segment's id.")],
    ) -> Segment | None:
        rows = await info.context.graph.run(Q.SEGMENTS_BY_ID, ids=[str(id)])
        return Segment.from_row(rows[0]["segment"]) if rows else None

    @typed.field(extensions=needs(Scope.READ), description="Every saved segment, by name.")
    async def segments(self, info: strawberry.Info[Context, None]) -> list[Segment]:
        return [Segment.from_row(row["segment"]) for row in await info.context.graph.run(Q.SEGMENTS_ALL)]

    @typed.field(extensions=needs(Scope.READ), description=(
        "Whether a person (by email) was in a saved segment at a moment, from its history, and why: the "
        "explanation kept when they entered. None when there is no such segment."))
    async def was_member(
        self, info: strawberry.Info[Context, None],
        segment_id: Annotated[strawberry.ID, strawberry.argument(description="The saved segment's id.")],
        email: Annotated[str, strawberry.argument(description="The person's email address.")],
        at: At,
    ) -> MembershipAsOf | None:
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
    async def company_was_member(
        self, info: strawberry.Info[Context, None],
        segment_id: Annotated[strawberry.ID, strawberry.argument(description=(
            "The id of the saved account audience (or segment of people)."))],
        company_id: Annotated[strawberry.ID, strawberry.argument(description=(
            "The company's id: `source/sourceKey` of its smallest account."))],
        at: At,
    ) -> CompanyMembershipAsOf | None:
        moment = at if at.tzinfo else at.replace(tzinfo=UTC)
        row = await engine.company_membership_at(info.context.graph, str(segment_id), str(company_id), moment)
        return CompanyMembershipAsOf.from_row(str(segment_id), str(company_id), moment, row) if row else None

    @typed.field(extensions=needs(Scope.ADMIN),
                 description="The configured destinations (a webhook URL can be a secret of its own).")
    async def destinations(self, info: strawberry.Info[Context, None]) -> list[Destination]:
        return [Destination.from_row(row["destination"]) for row in await info.context.graph.run(Q.DESTINATIONS_ALL)]
