from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON

from service.api import typed
from service.api.activation import Activation
from service.api.company import Account, Company, ContactRole, Opportunity, companies_by_id, company_by_id
from service.api.contact import Contact
from service.api.context import Context
from service.api.paging import After, First, decode_cursor, encode_cursor
from service.api.person import Person
from service.api.rule import Subject  # registered as a GraphQL enum there
from service.api.temporal import native_datetime
from service.api.visit import WebVisit
from service.queries import Q
from service.segments import engine
from service.segments.compiler import MAX_EXPLAINED_DEALS, MAX_EXPLAINED_PEOPLE, Compiled
from service.segments.engine import SegmentError
from service.text import normalised_email


@strawberry.type(description="A company's value for an opportunity condition, and whether it passed.")
class CompanyValue:
    company_id: strawberry.ID = strawberry.field(description="The company's id (`source/sourceKey` of its smallest "
                                                             "account).")
    value: float | None = strawberry.field(description=(
        "The company's figure: SUM or MAX, an amount in the deals' currency (added as imported, not converted); "
        "COUNT, a number of deals; none for a MAX of no deals."))
    matched: bool = strawberry.field(description="Whether the figure passed the condition's number test.")
    accounts: list[Account] = strawberry.field(description="The member's accounts in this company.")
    deals: list[Opportunity] = strawberry.field(
        description=f"The deals behind the value (those the condition takes), largest first: at most "
                    f"{MAX_EXPLAINED_DEALS}; moreDeals says how many more there are.")
    deal_count: int = strawberry.field(description="How many deals the value is computed from.")
    more_deals: int = strawberry.field(description="How many of those deals are not listed in `deals`.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CompanyValue:
        deals = [Opportunity.from_row(o) for o in row["deals"]]
        return cls(company_id=strawberry.ID(row["companyId"]), value=row["value"], matched=bool(row["matched"]),
                   accounts=[Account.from_row(a) for a in row["accounts"]], deals=deals,
                   deal_count=row["dealCount"], more_deals=row["dealCount"] - len(deals))

    @typed.field(description="The company itself, as it is now.")
    async def company(self, info: strawberry.Info[Context, None]) -> Company | None:
        return await company_by_id(info, str(self.company_id))


@strawberry.type(description="A campaign or marketing list membership that a condition looked at.")
class Membership:
    kind: str = strawberry.field(description="`campaign` or `list`.")
    source: str = strawberry.field(description="The name of the source the campaign or list comes from.")
    id: str = strawberry.field(description="The campaign's or list's id in that source.")
    name: str | None = strawberry.field(description="The campaign's or list's name.")
    status: str | None = strawberry.field(description="A campaign: the member's status (e.g. Attended); a list: none.")


@strawberry.type(
    description="What one condition of the rule found for a member: why they are in (or what did not hold).")
class Evidence:
    path: str = strawberry.field(description="Where the condition is in the rule, e.g. and[1].visits.")
    kind: str = strawberry.field(description=(
        "The condition's kind: person, account, opportunities, visits, campaign, list, opportunityRole, "
        "accountRole, buyingGroup, people or segment."))
    matched: bool = strawberry.field(description="Whether the condition held for this member.")
    companies: list[CompanyValue] = strawberry.field(description=(
        "opportunities: every company of the member with its figure, whether it passed, and the deals behind it."))
    accounts: list[Account] = strawberry.field(description=(
        "account: the accounts in scope that pass the test; accountRole: the member's accounts whose role passes."))
    visits: list[WebVisit] = strawberry.field(description="visits: the visits that match the URL and time bounds.")
    memberships: list[Membership] = strawberry.field(description=(
        "campaign or list: the matching membership."))
    contact_roles: list[ContactRole] = strawberry.field(
        description="opportunityRole: the member's contact roles that matched, with their deals, largest first.")
    people: list[Contact] = strawberry.field(description=(
        f"people (of a company, in an account audience): the first {MAX_EXPLAINED_PEOPLE} of its people who "
        "passed the condition's person rule, by email."))
    people_count: int = strawberry.field(description="people: how many of the company's people passed it.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Evidence:
        return cls(
            path=row["path"], kind=row["kind"], matched=bool(row["matched"]),
            companies=[CompanyValue.from_row(c) for c in row["companies"]],
            accounts=[Account.from_row(a) for a in row["accounts"]],
            visits=[WebVisit.from_row(v) for v in row["visits"]],
            memberships=[Membership(**m) for m in row["memberships"]],
            contact_roles=[ContactRole.of_person(r, Contact.from_row(r["person"])) for r in row["contactRoles"]],
            # Explanations kept before account audiences existed have neither.
            people=[Contact.from_row(p) for p in row.get("people", [])], people_count=row.get("peopleCount", 0),
        )



@strawberry.type(description="Whether a person was in a saved segment at a moment, from the segment's history.")
class MembershipAsOf:
    segment_id: strawberry.ID = strawberry.field(description="The saved segment's id.")
    email: str = strawberry.field(description="The person's email address (normalised: lower case, trimmed).")
    at: datetime = strawberry.field(description="The moment asked about (ISO 8601 date-time, UTC).")
    member: bool = strawberry.field(description="In the segment at `at`: their last change before it was an entry.")
    since: datetime | None = strawberry.field(description=(
        "When they entered (for a member; ISO 8601 date-time, UTC)."))
    until: datetime | None = strawberry.field(description=(
        "When they next left after `at` (for a member; none if they are in still; ISO 8601 date-time, UTC)."))
    explanation: list[Evidence] | None = strawberry.field(description=(
        "Why they were in, as it was when they entered (kept with the entry): the same evidence as a member "
        "page's, with the figures and deals of that day. None for a non-member, and for an entry that kept "
        "none (made before explanations were kept, or beyond the first 10,000 entries of one evaluation)."))
    history_from: datetime | None = strawberry.field(description=(
        "When the segment's oldest evaluation kept was made (EVALUATION_RETENTION_DAYS; ISO 8601 date-time, UTC): "
        "before it, history cannot say."))
    known_person: bool = strawberry.field(description="Whether the graph holds a person with this email now.")

    @classmethod
    def from_row(cls, segment_id: str, email: str, at: datetime, row: dict[str, Any]) -> MembershipAsOf:
        explanation = row["explanation"]
        return cls(segment_id=strawberry.ID(segment_id), email=email, at=at, member=row["member"],
                   since=native_datetime(row["since"]), until=native_datetime(row["until"]),
                   explanation=[Evidence.from_row(e) for e in explanation] if explanation is not None else None,
                   history_from=native_datetime(row["historyFrom"]), known_person=row["knownPerson"])


@strawberry.type(description=(
    "Whether a company was in a saved account audience at a moment, since and until when, and why (the "
    "explanation kept when it entered); or, for a segment of people, which of its people (as linked to it "
    "now) were members then, each with the explanation kept when they entered."))
class CompanyMembershipAsOf:
    segment_id: strawberry.ID = strawberry.field(description="The saved segment's id.")
    company_id: strawberry.ID = strawberry.field(description="The company's id.")
    at: datetime = strawberry.field(description="The moment asked about (ISO 8601 date-time, UTC).")
    known_company: bool = strawberry.field(description="Whether the graph holds a company with this id now.")
    member: bool = strawberry.field(description=(
        "In the account audience at `at`; for a segment of people, some person of the company was a member."))
    since: datetime | None = strawberry.field(description=(
        "Account audience: when the company entered (ISO 8601 date-time, UTC)."))
    until: datetime | None = strawberry.field(description=(
        "Account audience: when it next left after `at` (none if it is in still; ISO 8601 date-time, UTC)."))
    explanation: list[Evidence] | None = strawberry.field(description=(
        "Account audience: why the company was in, as it was when it entered (kept with the entry)."))
    members: list[MembershipAsOf] = strawberry.field(description=(
        "Segment of people: its people who were members at `at`, by email (an account audience: none)."))
    history_from: datetime | None = strawberry.field(description=(
        "When the segment's oldest evaluation kept was made (EVALUATION_RETENTION_DAYS; ISO 8601 date-time, UTC): "
        "before it, history cannot say."))

    @classmethod
    def from_row(cls, segment_id: str, company_id: str, at: datetime, row: dict[str, Any]) -> CompanyMembershipAsOf:
        members = [MembershipAsOf.from_row(segment_id, m["email"], at, m) for m in row["members"]]
        itself = row["itself"]
        explanation = itself["explanation"] if itself else None
        return cls(segment_id=strawberry.ID(segment_id), company_id=strawberry.ID(company_id), at=at,
                   known_company=row["knownCompany"],
                   member=itself["member"] if itself else bool(members),
                   since=native_datetime(itself["since"]) if itself else None,
                   until=native_datetime(itself["until"]) if itself else None,
                   explanation=[Evidence.from_row(e) for e in explanation] if explanation is not None else None,
                   members=members, history_from=native_datetime(row["historyFrom"]))


@strawberry.type(description="A member of an audience, with the evidence of every condition.")
class SegmentMember:
    email: str = strawberry.field(description="The member's email address (normalised: lower case, trimmed).")
    explanation: list[Evidence] = strawberry.field(description=(
        "One Evidence per condition of the rule, in rule order, including those that did not hold."))

    @typed.field(description="The person, as the graph holds them now.")
    async def person(self, info: strawberry.Info[Context, None]) -> Person | None:
        row = await info.context.loaders.person.load(self.email)
        return Person.from_row(row) if row else None


@strawberry.type(description="One page of members, in email order.")
class MemberPage:
    members: list[SegmentMember] = strawberry.field(description="The members of this page.")
    end_cursor: str | None = strawberry.field(description=(
        "An opaque cursor after the page's last member's email: pass it as `after` for the next page; "
        "none when the page is empty."))
    has_next_page: bool = strawberry.field(description="Whether there are more after this page.")


@strawberry.type(description="One page of a saved segment's current members, in email order.")
class PersonPage:
    people: list[Person] = strawberry.field(description="The people of this page.")
    end_cursor: str | None = strawberry.field(description=(
        "An opaque cursor after the page's last person's email: pass it as `after` for the next page; "
        "none when the page is empty."))
    has_next_page: bool = strawberry.field(description="Whether there are more after this page.")


@strawberry.type(description="A company in an account audience, with the evidence of every condition.")
class AccountMember:
    company_id: strawberry.ID = strawberry.field(description="The company's id.")
    explanation: list[Evidence] = strawberry.field(description=(
        "One Evidence per condition of the rule, in rule order, including those that did not hold."))

    @typed.field(description="The company, as it is now.")
    async def company(self, info: strawberry.Info[Context, None]) -> Company | None:
        return await company_by_id(info, str(self.company_id))


@strawberry.type(description="One page of an account audience's companies, in id order.")
class AccountMemberPage:
    members: list[AccountMember] = strawberry.field(description="The companies of this page.")
    end_cursor: str | None = strawberry.field(description=(
        "An opaque cursor after the page's last company's id: pass it as `after` for the next page; "
        "none when the page is empty."))
    has_next_page: bool = strawberry.field(description="Whether there are more after this page.")


@strawberry.type(description="One page of a saved account audience's current companies, in id order.")
class CompanyPage:
    companies: list[Company] = strawberry.field(description="The companies of this page.")
    end_cursor: str | None = strawberry.field(description=(
        "An opaque cursor after the page's last company's id: pass it as `after` for the next page; "
        "none when the page is empty."))
    has_next_page: bool = strawberry.field(description="Whether there are more after this page.")


def _selects(compiled: Compiled, subject: str, field: str) -> None:
    """Refuse a field that lists members of the other subject, saying which field lists them."""
    if compiled.subject != subject:
        other = "accounts" if subject == Subject.PERSON else "members"
        raise SegmentError(f"{field}: this rule selects {'companies' if subject == Subject.PERSON else 'people'}; "
                           f"its members are `{other}`")


@strawberry.type(description="A company in an account audience: how many of its people qualify.")
class AudienceCompany:
    company_id: strawberry.ID = strawberry.field(description="The company's id.")
    members: int = strawberry.field(description="How many of the selected people it has.")

    @typed.field(description="The company, as it is now.")
    async def company(self, info: strawberry.Info[Context, None]) -> Company | None:
        return await company_by_id(info, str(self.company_id))


async def member_page(info: strawberry.Info[Context, None], compiled: Compiled, first: int,
                      after: str | None) -> MemberPage:
    _selects(compiled, Subject.PERSON, "members")
    rows, has_next = await engine.members(info.context.graph, compiled, first, decode_cursor(after))
    return MemberPage(
        members=[SegmentMember(email=r["email"], explanation=[Evidence.from_row(e) for e in r["evidence"]])
                 for r in rows],
        end_cursor=encode_cursor(rows[-1]["email"]) if rows else None,
        has_next_page=has_next,
    )


@strawberry.type(description="A rule evaluated now, without saving it.")
class RulePreview:
    compiled: strawberry.Private[Compiled]

    @typed.field(description="How many people the rule selects (an account audience's rule: how many companies).")
    async def count(self, info: strawberry.Info[Context, None]) -> int:
        return await engine.count(info.context.graph, self.compiled)

    @typed.field(description="An account audience's rule: a page of its companies (at most 500), in id order, "
                             "each with an explanation.")
    async def accounts(self, info: strawberry.Info[Context, None], first: First = 50,
                       after: After = None) -> AccountMemberPage:
        _selects(self.compiled, Subject.COMPANY, "accounts")
        rows, has_next = await engine.members(info.context.graph, self.compiled, first, decode_cursor(after))
        return AccountMemberPage(
            members=[AccountMember(company_id=strawberry.ID(r["companyId"]),
                                   explanation=[Evidence.from_row(e) for e in r["evidence"]]) for r in rows],
            end_cursor=encode_cursor(rows[-1]["companyId"]) if rows else None,
            has_next_page=has_next,
        )

    @typed.field(description="A page of members (at most 500), each with an explanation.")
    async def members(self, info: strawberry.Info[Context, None], first: First = 50,
                      after: After = None) -> MemberPage:
        return await member_page(info, self.compiled, first, after)

    @typed.field(description=f"Why these people are in or out now (at most {engine.MAX_EXPLAINED}): the evidence "
                             "of every condition, as a member page gives it, members or not (each condition's "
                             "`matched` says whether it held); people the graph does not hold are left out.")
    async def explain(self, info: strawberry.Info[Context, None],
                      emails: Annotated[list[str], strawberry.argument(
                          description="The people's email addresses.")]) -> list[SegmentMember]:
        _selects(self.compiled, Subject.PERSON, "explain")
        try:
            normalised = [normalised_email(email) for email in emails]
        except ValueError as error:
            raise SegmentError(f"emails: {error}") from None
        rows = await engine.explain(info.context.graph, self.compiled, normalised)
        return [SegmentMember(email=r["email"], explanation=[Evidence.from_row(e) for e in r["evidence"]])
                for r in rows]

    @typed.field(description=f"An account audience's rule: why these companies are in or out now (at most "
                             f"{engine.MAX_EXPLAINED}), members or not; companies the graph does not hold are "
                             "left out.")
    async def explain_accounts(self, info: strawberry.Info[Context, None],
                               company_ids: Annotated[list[strawberry.ID], strawberry.argument(
                                   description="The companies' ids ('source/sourceKey').")]) -> list[AccountMember]:
        _selects(self.compiled, Subject.COMPANY, "explainAccounts")
        rows = await engine.explain(info.context.graph, self.compiled, [str(i) for i in company_ids])
        return [AccountMember(company_id=strawberry.ID(r["companyId"]),
                              explanation=[Evidence.from_row(e) for e in r["evidence"]]) for r in rows]

    @typed.field(description="The account audience: companies with qualifying people, most first (at most 500).")
    async def companies(self, info: strawberry.Info[Context, None], first: Annotated[int, strawberry.argument(
            description="How many companies at most: 1 to 500.")] = 50) -> list[AudienceCompany]:
        _selects(self.compiled, Subject.PERSON, "companies")
        rows = await engine.companies(info.context.graph, self.compiled, first)
        return [AudienceCompany(company_id=strawberry.ID(r["companyId"]), members=r["members"]) for r in rows]


@strawberry.type(
    description="One evaluation of a saved segment: its size, and who entered and left since the one before.")
class SegmentEvaluation:
    id: strawberry.ID = strawberry.field(description="The evaluation's id.")
    at: datetime = strawberry.field(description="When it was made (ISO 8601 date-time, UTC).")
    count: int = strawberry.field(description="The segment's size then: people, or companies for an account audience.")
    entered: int = strawberry.field(description="How many members entered since the evaluation before.")
    left: int = strawberry.field(description="How many members left since the evaluation before.")
    entered_people: list[str] = strawberry.field(description=(
        "The emails of the people who entered, in email order (an account audience: empty)."))
    left_people: list[str] = strawberry.field(description=(
        "The emails of the people who left, in email order (an account audience: empty)."))
    entered_companies: list[strawberry.ID] = strawberry.field(description="Account audience: the companies that "
                                                                          "entered, by id.")
    left_companies: list[strawberry.ID] = strawberry.field(description="Account audience: the companies that left.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SegmentEvaluation:
        return cls(id=strawberry.ID(row["id"]), at=row["at"].to_native(), count=row["count"], entered=row["entered"],
                   left=row["left"], entered_people=row.get("enteredPeople", []), left_people=row.get("leftPeople", []),
                   entered_companies=[strawberry.ID(i) for i in row.get("enteredCompanies", [])],
                   left_companies=[strawberry.ID(i) for i in row.get("leftCompanies", [])])


SEARCH_PEOPLE = Annotated[str | None, strawberry.argument(description=(
    "Only members whose email contains this text (case does not matter), or who have an account in the company "
    "with this id ('source/sourceKey'); none or blank: every member."))]
SEARCH_COMPANIES = Annotated[str | None, strawberry.argument(description=(
    "Only companies whose id, or the name of one of their accounts, contains this text (case does not matter); "
    "none or blank: every company."))]


def _search(text: str | None) -> str | None:
    """A search text as the member pages take it: none for blank."""
    return text.strip() or None if text is not None else None


@strawberry.type(description="A saved audience definition.")
class Segment:
    id: strawberry.ID = strawberry.field(description="The segment's id.")
    name: str = strawberry.field(description="The segment's name.")
    description: str = strawberry.field(description="What the segment is for, as given when saved (may be empty).")
    rule: JSON = strawberry.field(description="The rule, as its JSON (docs/segments.md).")
    subject: Subject = strawberry.field(description="PERSON: a segment of people; COMPANY: an account audience.")
    created_at: datetime = strawberry.field(description="When it was saved (ISO 8601 date-time, UTC).")
    updated_at: datetime = strawberry.field(description="When it was last changed (ISO 8601 date-time, UTC).")
    last_evaluated_at: datetime | None = strawberry.field(description=(
        "When it was last evaluated (ISO 8601 date-time, UTC); none before the first evaluation."))
    member_count: int | None = strawberry.field(description=(
        "Members at the last evaluation: people, or companies for an account audience; none before the first."))

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Segment:
        last = row.get("lastEvaluatedAt")
        return cls(id=strawberry.ID(row["id"]), name=row["name"], description=row.get("description") or "",
                   rule=json.loads(row["rule"]), subject=Subject(engine.subject_of(row)),
                   created_at=row["createdAt"].to_native(),
                   updated_at=row["updatedAt"].to_native(), last_evaluated_at=last.to_native() if last else None,
                   member_count=row.get("memberCount"))

    @typed.field(description="The rule evaluated now: count, members with explanations, companies.")
    async def now(self, info: strawberry.Info[Context, None]) -> RulePreview:
        segment = {"id": str(self.id), "rule": json.dumps(self.rule), "subject": self.subject}
        return RulePreview(compiled=await engine.compile_saved(info.context.graph, segment))

    @typed.field(description="The members as of the last evaluation, kept current by the live loop "
                             "(a stored read, no evaluation), in email order; at most 500 a page.")
    async def members(self, info: strawberry.Info[Context, None], first: First = 100,
                      after: After = None, search: SEARCH_PEOPLE = None) -> PersonPage:
        if self.subject == Subject.COMPANY:
            raise SegmentError("members: this is an account audience; its members are `companies`")
        rows, has_next = await engine.current_members(info.context.graph, str(self.id), first, decode_cursor(after),
                                                      _search(search))
        return PersonPage(people=[Person.from_row(row) for row in rows],
                          end_cursor=encode_cursor(rows[-1]["email"]) if rows else None,
                          has_next_page=has_next)

    @typed.field(description="An account audience's companies as of the last evaluation, kept current by the "
                             "live loop (a stored read), in id order; at most 500 a page.")
    async def companies(self, info: strawberry.Info[Context, None], first: First = 100,
                        after: After = None, search: SEARCH_COMPANIES = None) -> CompanyPage:
        if self.subject != Subject.COMPANY:
            raise SegmentError("companies: this segment selects people; its members are `members`")
        ids, has_next = await engine.current_companies(info.context.graph, str(self.id), first, decode_cursor(after),
                                                       _search(search))
        return CompanyPage(companies=await companies_by_id(info, ids),
                           end_cursor=encode_cursor(ids[-1]) if ids else None, has_next_page=has_next)

    @typed.field(description="Every activation of this segment, newest first.")
    async def activations(self, info: strawberry.Info[Context, None]) -> list[Activation]:
        rows = await info.context.graph.run(Q.ACTIVATIONS_OF_SEGMENTS, ids=[str(self.id)])
        return [Activation.from_row(row) for row in rows[0]["activations"]] if rows else []

    @typed.field(description="The latest evaluations (snapshots), newest first.")
    async def evaluations(self, info: strawberry.Info[Context, None], first: Annotated[int, strawberry.argument(
            description="How many evaluations at most: 1 to 500.")] = 20) -> list[SegmentEvaluation]:
        rows = await info.context.graph.run(Q.SEGMENT_EVALUATIONS, ids=[str(self.id)], first=engine.page_size(first))
        return [SegmentEvaluation.from_row(row["evaluation"]) for row in rows]
