"""Accounts, the companies they form and their deals. The types refer to each other (an account's
company, a company's accounts and opportunities, an opportunity's account), so they live in one
module rather than importing each other."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import strawberry

from service.api import rule as _rule  # noqa: F401  (makes FamilyScope a GraphQL enum before it is used here)
from service.api import typed
from service.api.buying_group import BuyingGroup
from service.api.contact import Contact
from service.api.context import Context
from service.api.paging import After, First, decode_opportunity_cursor, encode_opportunity_cursor, page_size
from service.api.source_record import SourceRecord
from service.api.temporal import native_date, native_datetime
from service.segments.buying_group import configured_roles
from service.segments.engine import SegmentError
from service.segments.rules import ENGAGEMENT_DAYS, MAX_DAYS, FamilyScope, OpportunityStatus


@strawberry.type(description="An account as one source system records it; a company may have several.")
class Account:
    source: str = strawberry.field(description="The name of the source system that records it, e.g. `CRM 1`.")
    source_key: str = strawberry.field(description="The account's id in that source.")
    name: str | None = strawberry.field(description="The account's name in that source.")
    industry: str | None = strawberry.field(description="The account's industry, if the source gives one.")
    country: str | None = strawberry.field(description="The account's billing country, if the source gives one.")
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
        return await company_by_id(info, self.company_id) if self.company_id else None


@strawberry.type(description="An MDM record saying two accounts are the same company: the lineage of a company.")
class MdmLink:
    mdm_id: str = strawberry.field(description=(
        "The link's id: MDM's LinkId, or `steward/<uuid>` for a link a steward accepted."))
    source: str = strawberry.field(description=(
        "Who made the link: `MDM` for an imported record, `steward:<key name>` for an accepted link suggestion."))
    from_account: Account = strawberry.field(description="The link's first account (an MDM record's SourceA, "
                                                         "AccountIdA).")
    to_account: Account = strawberry.field(description="The link's second account (an MDM record's SourceB, "
                                                       "AccountIdB).")
    updated_at: datetime | None = strawberry.field(description=(
        "When MDM last changed the record, if it says (ISO 8601 date-time, UTC)."))
    first_seen_at: datetime | None = strawberry.field(description=(
        "When accountgraph first wrote the link (ISO 8601 date-time, UTC)."))
    last_seen_at: datetime | None = strawberry.field(description=(
        "When the link was last written, by an import or a steward (ISO 8601 date-time, UTC)."))

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> MdmLink:
        return cls(mdm_id=row["mdmId"], source=row["source"], from_account=Account.from_row(row["from"]),
                   to_account=Account.from_row(row["to"]), updated_at=native_datetime(row["updatedAt"]),
                   first_seen_at=native_datetime(row["firstSeenAt"]), last_seen_at=native_datetime(row["lastSeenAt"]))


@strawberry.type(description="One real-world company: accounts joined by MDM SAME_COMPANY links, transitively.")
class Company:
    id: strawberry.ID = strawberry.field(description="The smallest 'source/sourceKey' of its accounts.")
    accounts: list[Account] = strawberry.field(description="Its accounts, by source and sourceKey.")
    won_total: float = strawberry.field(description=(
        "Sum of closed-won opportunity amounts over all its accounts, each deal counted once (an amount in the "
        "deals' currency: amounts are added as imported, not converted)."))
    open_pipeline: float = strawberry.field(description=(
        "Sum of amounts of opportunities not yet closed, each once (in the deals' currency, not converted)."))
    opportunity_count: int = strawberry.field(description="How many deals its accounts have, each counted once.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Company:
        return cls(
            id=strawberry.ID(row["id"]),
            accounts=sorted((Account.from_row(a) for a in row["accounts"]), key=lambda a: (a.source, a.source_key)),
            won_total=row["wonTotal"],
            open_pipeline=row["openPipeline"],
            opportunity_count=row["opportunityCount"],
        )

    @typed.field(description="A page of the deals of all the company's accounts (each once), largest first: WON, "
                             "LOST (closed, not won), OPEN (not closed) or ANY. `first` 1 to 500.")
    async def opportunities(self, info: strawberry.Info[Context, None],
                            status: Annotated[OpportunityStatus, strawberry.argument(description=(
                                "Which deals, by status (default ANY)."))] = OpportunityStatus.ANY,
                            first: First = 50, after: After = None) -> OpportunityPage:
        return await opportunity_page(info, str(self.id), status, first, after)

    @typed.field(description="The MDM links that join this company's accounts (its lineage).")
    async def links(self, info: strawberry.Info[Context, None]) -> list[MdmLink]:
        return [MdmLink.from_row(row) for row in await info.context.loaders.links_of_company.load(str(self.id))]

    @typed.field(description=(
        "Its parent company in the corporate hierarchy (a subsidiary is another company, not a SAME_COMPANY "
        "duplicate), or null; should its accounts name parents in several companies, the first by id."))
    async def parent(self, info: strawberry.Info[Context, None]) -> Company | None:
        ids = (await info.context.loaders.hierarchy_of_company.load(str(self.id)))["parents"]
        return await company_by_id(info, ids[0]) if ids else None

    @typed.field(description="Every parent company (normally one), in id order.")
    async def parents(self, info: strawberry.Info[Context, None]) -> list[Company]:
        hierarchy = await info.context.loaders.hierarchy_of_company.load(str(self.id))
        return await companies_by_id(info, hierarchy["parents"])

    @typed.field(description="Its direct subsidiaries, in id order.")
    async def children(self, info: strawberry.Info[Context, None]) -> list[Company]:
        hierarchy = await info.context.loaders.hierarchy_of_company.load(str(self.id))
        return await companies_by_id(info, hierarchy["children"])

    @typed.field(description="The top of its corporate family: the ancestor with no parent (the company itself "
                             "when it has none); with several, the first by id.")
    async def ultimate_parent(self, info: strawberry.Info[Context, None]) -> Company | None:
        ids = (await info.context.loaders.hierarchy_of_company.load(str(self.id)))["ultimateParents"]
        return await company_by_id(info, ids[0]) if ids else None

    @typed.field(description=(
        "Figures over its corporate family, each deal once: FAMILY (default), the company and every company "
        "under it; ULTIMATE, everything under its ultimate parent(s); COMPANY, the company alone."))
    async def family(self, info: strawberry.Info[Context, None],
                     scope: Annotated[FamilyScope, strawberry.argument(description=(
                         "Which companies the figures cover (default FAMILY)."))] = FamilyScope.FAMILY,
                     ) -> CompanyFamily:
        if scope == FamilyScope.COMPANY:
            return CompanyFamily(scope=scope, company_ids=[self.id], won_total=self.won_total,
                                 open_pipeline=self.open_pipeline, opportunity_count=self.opportunity_count)
        row = await info.context.loaders.family_of_company.load((str(self.id), scope.value))
        if row is None:
            return CompanyFamily(scope=scope, company_ids=[], won_total=0.0, open_pipeline=0.0, opportunity_count=0)
        return CompanyFamily.from_row(scope, row)

    @typed.field(description=(
        "Its buying group: each configured role with who holds it, the missing roles, and engagement in the "
        "last withinDays days (1 to 3660)."))
    async def buying_group(self, info: strawberry.Info[Context, None],
                           within_days: Annotated[int, strawberry.argument(description=(
                               f"The engagement window in days back from now (1 to {MAX_DAYS}; default "
                               f"{ENGAGEMENT_DAYS})."))] = ENGAGEMENT_DAYS,
                           ) -> BuyingGroup:
        if not 1 <= within_days <= MAX_DAYS:
            raise SegmentError(f"withinDays: must be from 1 to {MAX_DAYS}")
        members = await info.context.loaders.buying_group_of_company.load((str(self.id), within_days))
        return BuyingGroup.of(members, configured_roles(), within_days)


@strawberry.type(description=(
    "A company's corporate family and its figures over every company of it, each deal once: FAMILY is the "
    "company and every company under it (its subsidiaries, theirs, ...); ULTIMATE is everything under its "
    "ultimate parent; COMPANY the company alone."))
class CompanyFamily:
    scope: FamilyScope = strawberry.field(description="Which companies the figures cover.")
    company_ids: list[strawberry.ID] = strawberry.field(description="The companies of the family, in id order.")
    won_total: float = strawberry.field(description=(
        "Sum of closed-won amounts over the family's deals, each once (in the deals' currency, not converted)."))
    open_pipeline: float = strawberry.field(description=(
        "Sum of amounts of the family's deals not yet closed (in the deals' currency, not converted)."))
    opportunity_count: int = strawberry.field(description="How many deals the family's companies have, each once.")

    @typed.field(description="How many companies the family has.")
    def company_count(self) -> int:
        return len(self.company_ids)

    @classmethod
    def from_row(cls, scope: FamilyScope, row: dict[str, Any]) -> CompanyFamily:
        return cls(scope=scope, company_ids=[strawberry.ID(id) for id in row["companyIds"]],
                   won_total=row["wonTotal"], open_pipeline=row["openPipeline"],
                   opportunity_count=row["opportunityCount"])


@strawberry.type(description="A deal (opportunity) of an account, as its system of record holds it.")
class Opportunity:
    source: str = strawberry.field(description="The source of the record's identity (its system of record).")
    source_key: str = strawberry.field(description="The record's id in that source.")
    name: str | None = strawberry.field(description="The deal's name.")
    amount: float | None = strawberry.field(description="The deal's amount, in its `currency` (as imported).")
    currency: str | None = strawberry.field(description=(
        "The ISO 4217 code of the amount's currency (e.g. USD); none when the source gives none."))
    stage: str | None = strawberry.field(description="Its sales stage, one of Salesforce's standard stages.")
    is_won: bool | None = strawberry.field(description="Whether it is won: its stage is `Closed Won`.")
    is_closed: bool | None = strawberry.field(description="Whether it is closed: `Closed Won` or `Closed Lost`.")
    close_date: date | None = strawberry.field(description="Its close date (ISO 8601 date, YYYY-MM-DD).")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Opportunity:
        return cls(source=row["source"], source_key=row["sourceKey"], name=row.get("name"), amount=row.get("amount"),
                   currency=row.get("currency"), stage=row.get("stage"), is_won=row.get("isWon"),
                   is_closed=row.get("isClosed"), close_date=native_date(row.get("closeDate")))

    @typed.field(description="Every source that exports this deal, under its own id there: the system of record "
                             "(`source`, `sourceKey`) and each source holding a synced copy.")
    async def known_as(self, info: strawberry.Info[Context, None]) -> list[SourceRecord]:
        rows = await info.context.loaders.known_as_of_opportunity.load((self.source, self.source_key))
        return [SourceRecord.from_row(row) for row in rows]

    @typed.field(description="The account holding the deal (the system of record's).")
    async def account(self, info: strawberry.Info[Context, None]) -> Account | None:
        row = await info.context.loaders.account_of_opportunity.load((self.source, self.source_key))
        return Account.from_row(row) if row else None

    @typed.field(description="The people with a contact role on the deal, primary contact first.")
    async def contact_roles(self, info: strawberry.Info[Context, None]) -> list[ContactRole]:
        rows = await info.context.loaders.contact_roles_of_opportunity.load((self.source, self.source_key))
        return [ContactRole(role=row["role"], is_primary=bool(row["isPrimary"]), person=Contact.from_row(row["person"]),
                            opportunity=self) for row in rows]


@strawberry.type(description="A person's contact role on a deal (CONTACT_FOR), e.g. Decision Maker.")
class ContactRole:
    role: str | None = strawberry.field(description="The role, as the source gives it (e.g. Decision Maker).")
    is_primary: bool = strawberry.field(description="Whether the person is the deal's primary contact.")
    person: Contact = strawberry.field(description="The person holding the role.")
    opportunity: Opportunity = strawberry.field(description="The deal.")

    @classmethod
    def of_person(cls, row: dict[str, Any], person: Contact) -> ContactRole:
        return cls(role=row["role"], is_primary=bool(row["isPrimary"]), person=person,
                   opportunity=Opportunity.from_row(row["opportunity"]))


@strawberry.type(description="One page of a company's deals, largest amount first (none last), then by source and "
                             "sourceKey; pass endCursor as `after` for the next page.")
class OpportunityPage:
    opportunities: list[Opportunity] = strawberry.field(description="The deals of this page.")
    total_count: int = strawberry.field(description="How many deals of the status the company has, on every page.")
    end_cursor: str | None = strawberry.field(description=(
        "An opaque cursor after the page's last deal: pass it as `after` for the next page; none when the page "
        "is empty."))
    has_next_page: bool = strawberry.field(description="Whether there are more deals after this page.")


async def company_by_id(info: strawberry.Info[Context, None], id: str) -> Company | None:
    """The company of that id, through the request's loader (none if there is no such company)."""
    row = await info.context.loaders.company.load(id)
    return Company.from_row(row) if row else None


async def companies_by_id(info: strawberry.Info[Context, None], ids: list[str]) -> list[Company]:
    """The companies of those ids that exist, in that order, through the request's loader."""
    rows = await info.context.loaders.company.load_many(ids)
    return [Company.from_row(row) for row in rows if row]


async def opportunity_page(info: strawberry.Info[Context, None], company_id: str, status: OpportunityStatus,
                           first: int, after: str | None) -> OpportunityPage:
    key = (company_id, status.value, page_size(first), decode_opportunity_cursor(after))
    page = await info.context.loaders.opportunities_of_company.load(key)
    rows = page["rows"]
    shown = rows[:first]
    return OpportunityPage(opportunities=[Opportunity.from_row(row) for row in shown], total_count=page["totalCount"],
                           end_cursor=encode_opportunity_cursor(shown[-1]) if shown else None,
                           has_next_page=len(rows) > first)
