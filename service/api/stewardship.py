"""Link suggestions for the data steward in GraphQL (docs/stewardship.md): `linkSuggestions`,
`linkSuggestion(id)` with the segments it would move people in or out of, and the mutations
`acceptLinkSuggestion(id)` and `rejectLinkSuggestion(id, reason)`, all with an admin key."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from service.api import typed
from service.api.company import Company, company_by_id
from service.api.context import Context
from service.api.permissions import needs
from service.auth.keys import Scope
from service.errors import InvalidArgument
from service.segments.engine import MAX_PAGE
from service.stewardship import suggestions as stewardship
from service.stewardship.suggestions import Suggestion

# Impact rehearses each suggestion in a write transaction of its own: on a list, only on a short one.
MAX_IMPACTS = 10


@strawberry.type(description="One piece of evidence that two accounts are one company.")
class LinkEvidence:
    kind: str = strawberry.field(description="WEBSITE_DOMAIN, NAME (normalised) or EMAIL_DOMAIN (of their people).")
    value: str = strawberry.field(description="The key both accounts share: the domain, or the normalised name.")
    weight: float = strawberry.field(description="What it adds to the score: the kind's weight, lowered when more "
                                                 "than 3 companies share the key.")
    companies_sharing: int = strawberry.field(description="How many companies hold the key.")
    people_a: int = strawberry.field(description="EMAIL_DOMAIN: the people of account a at the domain (else 0).")
    people_b: int = strawberry.field(description="EMAIL_DOMAIN: the people of account b at the domain (else 0).")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> LinkEvidence:
        return cls(kind=row["kind"], value=row["value"], weight=round(row["weight"], 3),
                   companies_sharing=row["companiesSharing"], people_a=row["peopleA"], people_b=row["peopleB"])


@strawberry.type(description="An account of a suggestion, as its source records it.")
class SuggestedAccount:
    source: str = strawberry.field(description="The name of the source system that records it, e.g. `CRM 1`.")
    source_key: str = strawberry.field(description="The account's id in that source.")
    name: str | None = strawberry.field(description="The account's name in that source.")
    website: str | None = strawberry.field(description="The account's website, if the source gives one.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SuggestedAccount:
        return cls(source=row["source"], source_key=row["sourceKey"], name=row.get("name"),
                   website=row.get("website"))


@strawberry.type(description="A pair of accounts, one of each company, and the evidence that they are one company.")
class AccountPairEvidence:
    a: SuggestedAccount = strawberry.field(description="The account of the first company.")
    b: SuggestedAccount = strawberry.field(description="The account of the second company.")
    score: float = strawberry.field(description="The score of this pair's evidence alone.")
    evidence: list[LinkEvidence] = strawberry.field(description="Each piece of evidence the two accounts share.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> AccountPairEvidence:
        return cls(a=SuggestedAccount.from_row(row["a"]), b=SuggestedAccount.from_row(row["b"]), score=row["score"],
                   evidence=[LinkEvidence.from_row(e) for e in row["evidence"]])


@strawberry.type(description="A company's figures: now, or as the companies of a suggestion would make one.")
class CompanyTotals:
    company_id: str = strawberry.field(description="The company's id (merged: the id the company would have).")
    accounts: int = strawberry.field(description="How many accounts the company has.")
    people: int = strawberry.field(description="How many people are associated with its accounts, each once.")
    won_sum: float = strawberry.field(description=(
        "Sum of the amounts of its closed-won deals, each once (in the deals' currency, not converted)."))
    won_count: int = strawberry.field(description="How many closed-won deals it has.")
    won_max: float | None = strawberry.field(description=(
        "The largest closed-won deal amount (in the deal's currency); none without won deals."))
    open_sum: float = strawberry.field(description=(
        "Sum of the amounts of its deals not yet closed (in the deals' currency, not converted)."))
    open_count: int = strawberry.field(description="How many deals not yet closed it has.")
    lost_sum: float = strawberry.field(description=(
        "Sum of the amounts of its closed and lost deals (in the deals' currency, not converted)."))
    lost_count: int = strawberry.field(description="How many closed and lost deals it has.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CompanyTotals:
        return cls(company_id=row["id"], accounts=row["accounts"], people=row["people"],
                   won_sum=row.get("wonSum") or 0.0, won_count=row.get("wonCount") or 0, won_max=row.get("wonMax"),
                   open_sum=row.get("openSum") or 0.0, open_count=row.get("openCount") or 0,
                   lost_sum=row.get("lostSum") or 0.0, lost_count=row.get("lostCount") or 0)

    @typed.field(description="The company itself (none for a merged company that does not exist yet).")
    async def company(self, info: strawberry.Info[Context, None]) -> Company | None:
        return await company_by_id(info, self.company_id)


@strawberry.type(description=(
    "The people a saved segment (or the companies an account audience) would gain and lose if the link were made."))
class SegmentMove:
    segment_id: strawberry.ID = strawberry.field(description="The saved segment's id.")
    name: str = strawberry.field(description="The saved segment's name.")
    entered: list[str] = strawberry.field(description="Emails of the people who would enter.")
    left: list[str] = strawberry.field(description="Emails of the people who would leave.")
    entered_companies: list[str] = strawberry.field(description=(
        "An account audience: the company (its id) that would enter: the one the link makes."))
    left_companies: list[str] = strawberry.field(description=(
        "An account audience: the company that would leave (the one the link absorbs goes with its memberships, "
        "and is not listed)."))


@strawberry.type(description=(
    "A candidate SAME_COMPANY link between two companies, from evidence in the graph; never made "
    "automatically. Accept it with acceptLinkSuggestion, or reject it with rejectLinkSuggestion."))
class LinkSuggestion:
    id: strawberry.ID = strawberry.field(description="The suggestion's id: opaque, it names the pair of companies.")
    score: float = strawberry.field(description=(
        "0 to 1: 1 - the product over the evidence kinds of (1 - the kind's best weight) (docs/stewardship.md)."))
    kinds: list[str] = strawberry.field(
        description="The kinds of evidence found: of WEBSITE_DOMAIN, EMAIL_DOMAIN and NAME, in this order.")
    pairs: list[AccountPairEvidence] = strawberry.field(description=(
        "The pairs of accounts with evidence, best first; accepting links the first."))
    companies: list[CompanyTotals] = strawberry.field(description="The two companies as they are now.")
    merged: CompanyTotals = strawberry.field(description="The company they would make: how its totals would change.")
    found: strawberry.Private[Suggestion]
    rehearse: strawberry.Private[bool]

    @classmethod
    def of(cls, found: Suggestion, rehearse: bool) -> LinkSuggestion:
        return cls(id=strawberry.ID(found.id), score=found.score, kinds=found.kinds,
                   pairs=[AccountPairEvidence.from_row(p) for p in found.pairs],
                   companies=[CompanyTotals.from_row(c) for c in found.companies],
                   merged=CompanyTotals.from_row(found.merged), found=found, rehearse=rehearse)

    @typed.field(description=(
        "The saved segments the link would move people of the two companies into or out of (only those with "
        "a move), found by making the link in a transaction that is rolled back. Costly: on linkSuggestions "
        f"only with first of at most {MAX_IMPACTS}."))
    async def segment_moves(self, info: strawberry.Info[Context, None]) -> list[SegmentMove]:
        if not self.rehearse:
            raise InvalidArgument(f"segmentMoves: ask linkSuggestion(id), or linkSuggestions with first of at most "
                                  f"{MAX_IMPACTS}")
        moves = await stewardship.impact(info.context.graph, self.found)
        return [SegmentMove(segment_id=strawberry.ID(m["segmentId"]), name=m["name"], entered=m["entered"],
                            left=m["left"], entered_companies=m["enteredCompanies"], left_companies=m["leftCompanies"])
                for m in moves]


@strawberry.type(description="Link suggestions, best first.")
class LinkSuggestions:
    min_score: float = strawberry.field(description="The least score asked for (0 to 1).")
    suggestions: list[LinkSuggestion] = strawberry.field(description=(
        "The suggestions with at least that score, best first."))


@strawberry.type(description="The link a steward made from a suggestion.")
class AcceptedLink:
    link_id: str = strawberry.field(description="The link's id (as MDM's link ids are kept): 'steward/<uuid>'.")
    source: str = strawberry.field(description="'steward:' and the name of the API key that accepted it.")
    company_id: str = strawberry.field(description="The id of the company the two became.")
    suggestion: LinkSuggestion = strawberry.field(description="The suggestion as it was accepted.")

    @typed.field(description="The company the two became, with its totals now.")
    async def company(self, info: strawberry.Info[Context, None]) -> Company | None:
        return await company_by_id(info, self.company_id)


@strawberry.type(description="A rejected suggestion: its pairs of accounts are not suggested again.")
class RejectedLink:
    id: strawberry.ID = strawberry.field(description="The id of the rejected suggestion.")
    pairs: int = strawberry.field(description="The pairs of accounts recorded as not the same company.")


def _who(info: strawberry.Info[Context, None]) -> tuple[str, str]:
    """The steward: the name of the request's API key, and the name with the key's id."""
    key = info.context.key
    return (key.name, f"{key.name} ({key.id})") if key else ("unknown", "unknown")


SuggestionId = Annotated[strawberry.ID, strawberry.argument(description="The suggestion's id (LinkSuggestion.id).")]


@strawberry.type
class StewardshipQuery:
    @typed.field(extensions=needs(Scope.ADMIN), description=(
        "Candidate SAME_COMPANY links MDM has not made (one per pair of companies), with their evidence, "
        "score and the totals of the company they would make, best first."))
    async def link_suggestions(
        self, info: strawberry.Info[Context, None],
        first: Annotated[int, strawberry.argument(description=(
            f"How many suggestions at most: 1 to {MAX_PAGE}; segmentMoves only with at most {MAX_IMPACTS}."))] = 50,
        min_score: Annotated[float, strawberry.argument(description=(
            "Only suggestions with at least this score, from 0 to 1 (default 0.5)."))] = 0.5,
    ) -> LinkSuggestions:
        found = await stewardship.suggestions(info.context.graph, first, min_score)
        return LinkSuggestions(min_score=min_score,
                               suggestions=[LinkSuggestion.of(s, first <= MAX_IMPACTS) for s in found])

    @typed.field(extensions=needs(Scope.ADMIN), description=(
        "One link suggestion by id, as the graph has it now (none once its companies are one, or it was "
        "rejected), with segmentMoves."))
    async def link_suggestion(self, info: strawberry.Info[Context, None], id: SuggestionId) -> LinkSuggestion | None:
        found = await stewardship.suggestion(info.context.graph, str(id))
        return LinkSuggestion.of(found, True) if found else None


@strawberry.type
class StewardshipMutation:
    @typed.mutation(extensions=needs(Scope.ADMIN), description=(
        "Make the suggested SAME_COMPANY link (its best pair of accounts), with 'steward:<key name>' as its "
        "source; the companies regroup and live audiences update as for an MDM link."))
    async def accept_link_suggestion(self, info: strawberry.Info[Context, None], id: SuggestionId) -> AcceptedLink:
        name, by = _who(info)
        accepted = await stewardship.accept(info.context.graph, str(id), name, by)
        return AcceptedLink(link_id=accepted.link_id, source=accepted.source, company_id=accepted.company_id,
                            suggestion=LinkSuggestion.of(accepted.suggestion, False))

    @typed.mutation(extensions=needs(Scope.ADMIN), description=(
        "Reject a suggestion: its pairs of accounts are recorded as not the same company (NOT_SAME_COMPANY, "
        "with who, when and the reason) and not suggested again."))
    async def reject_link_suggestion(
        self, info: strawberry.Info[Context, None], id: SuggestionId,
        reason: Annotated[str, strawberry.argument(description=(
            "Why the accounts are not one company, kept with the rejection (free text; may be empty)."))] = "",
    ) -> RejectedLink:
        _, by = _who(info)
        pairs = await stewardship.reject(info.context.graph, str(id), by, reason)
        return RejectedLink(id=id, pairs=pairs)
