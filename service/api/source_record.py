from __future__ import annotations

from typing import Any

import strawberry


@strawberry.type(description="The id one source system knows a record by (a person, or an account or deal exported "
                             "by several systems: a synced copy and its original are one record).")
class SourceRecord:
    source: str = strawberry.field(description="The name of the source system, e.g. `CRM 1`.")
    source_key: str = strawberry.field(description="The record's id in that source.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SourceRecord:
        return cls(source=row["source"], source_key=row["sourceKey"])
