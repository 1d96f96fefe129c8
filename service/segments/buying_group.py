"""Buying groups: the people who hold the roles of a B2B purchase at a company (Decision Maker,
Economic Buyer, ...), gathered from contact roles on the deals of every account of the company and
from the roles people have at those accounts (account-people), across every linked account.

The roles that make up a group are a setting (BUYING_GROUP_ROLES); a recorded role counts as one of
them when it is the same text, case and surrounding spaces aside. A member is engaged when they
visited a page, or responded to a campaign (a campaign membership whose status says "respond",
first seen then: the exports carry no response date), in the window.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from service.config import get_settings


def normalised(role: str) -> str:
    return role.strip().lower()  # as the Cypher compares: toLower(trim(role))


def configured_roles() -> tuple[str, ...]:
    """The roles of a buying group, as the setting names them, in its order."""
    return tuple(role.strip() for role in get_settings().buying_group_roles.split(",") if role.strip())


def coverage(members: Iterable[dict[str, Any]], roles: tuple[str, ...]) -> list[dict[str, Any]]:
    """For each configured role (in order), the members who hold it: rows of
    api/buying_groups_of_companies (email, role as recorded, via, record, engagement)."""
    holders: dict[str, list[dict[str, Any]]] = {normalised(role): [] for role in roles}
    for member in members:
        found = holders.get(normalised(member["role"]))
        if found is not None:
            found.append(member)
    return [{"role": role, "members": holders[normalised(role)]} for role in roles]
