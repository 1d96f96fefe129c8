"""How records below `Person` refer to people: a person's own fields.

Opportunities, campaigns and lists name their people with `Contact` rather than `Person`: `Person`
reaches those records (its contact roles, campaigns, lists), so it sits above them, and a type
imports only the ones below it. The rest of a person is `person(email:)` away.
"""

from __future__ import annotations

from typing import Any

import strawberry


@strawberry.type(description="A person as a deal, campaign or list names them; everything else about them is "
                             "person(email: ...).")
class Contact:
    email: str = strawberry.field(description="The person's email address (normalised: lower case, trimmed).")
    first_name: str | None = strawberry.field(description="First name, as the source imported last gives it.")
    last_name: str | None = strawberry.field(description="Last name, as the source imported last gives it.")
    title: str | None = strawberry.field(description="Job title, as the source imported last gives it.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Contact:
        return cls(email=row["email"], first_name=row.get("firstName"), last_name=row.get("lastName"),
                   title=row.get("title"))
