"""A company's buying group in GraphQL: which roles are filled and by whom, which are missing, how engaged."""

from __future__ import annotations

from typing import Any

import strawberry

from service.api import typed
from service.segments.buying_group import coverage


@strawberry.type(description="A person holding a buying-group role at the company, and where the role is recorded.")
class BuyingGroupMember:
    email: str = strawberry.field(description="The person's email address (normalised: lower case, trimmed).")
    first_name: str | None = strawberry.field(description="First name, as the source imported last gives it.")
    last_name: str | None = strawberry.field(description="Last name, as the source imported last gives it.")
    title: str | None = strawberry.field(description="Job title, as the source imported last gives it.")
    role: str = strawberry.field(description="The role as the source records it.")
    via: str = strawberry.field(description="OPPORTUNITY: a contact role on a deal; ACCOUNT: a role at an account.")
    source: str = strawberry.field(description="The source system of the deal or account.")
    record_id: str = strawberry.field(description="The deal's or account's id in that source.")
    record_name: str | None = strawberry.field(description="The deal's or account's name.")
    visits: int = strawberry.field(description="Their web visits in the window.")
    campaign_responses: int = strawberry.field(
        description="Their campaign memberships with a responded status, first seen in the window.")

    @typed.field(description="Visited a page or responded to a campaign in the window.")
    def engaged(self) -> bool:
        return self.visits + self.campaign_responses > 0

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> BuyingGroupMember:
        return cls(email=row["email"], first_name=row["firstName"], last_name=row["lastName"], title=row["title"],
                   role=row["role"], via=row["via"], source=row["source"], record_id=row["key"],
                   record_name=row["name"], visits=row["visits"], campaign_responses=row["campaignResponses"])


@strawberry.type(description="One role of the buying group and who holds it (a person once per role and record).")
class BuyingGroupRole:
    role: str = strawberry.field(description="The role as BUYING_GROUP_ROLES names it.")
    members: list[BuyingGroupMember] = strawberry.field(description=(
        "The people holding the role, each once per record it is recorded on."))

    @typed.field(description="Someone holds the role.")
    def filled(self) -> bool:
        return bool(self.members)


@strawberry.type(description=(
    "The company's buying group: the configured roles (BUYING_GROUP_ROLES), each with who holds it through a "
    "contact role on a deal or a role at an account of any of the company's linked accounts."))
class BuyingGroup:
    within_days: int = strawberry.field(description="The engagement window, in days.")
    roles: list[BuyingGroupRole] = strawberry.field(description=(
        "Every configured role, in the order of BUYING_GROUP_ROLES, with who holds it."))

    @typed.field(description="The configured roles nobody holds.")
    def missing_roles(self) -> list[str]:
        return [role.role for role in self.roles if not role.members]

    @typed.field(description="How many of the configured roles are held.")
    def filled_roles(self) -> int:
        return sum(1 for role in self.roles if role.members)

    @typed.field(description="Distinct people of the group who are engaged in the window.")
    def engaged_members(self) -> int:
        return len({m.email for role in self.roles for m in role.members if m.visits + m.campaign_responses})

    @classmethod
    def of(cls, members: list[dict[str, Any]], roles: tuple[str, ...], within_days: int) -> BuyingGroup:
        return cls(within_days=within_days, roles=[
            BuyingGroupRole(role=held["role"], members=[BuyingGroupMember.from_row(m) for m in held["members"]])
            for held in coverage(members, roles)])
