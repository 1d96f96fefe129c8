from __future__ import annotations

from typing import Any

import strawberry


@strawberry.type(description="The id one source system knows a record by (a person, or an account or deal exported "
                             "by several systems: a synced copy and its original are one record).")
class SourceRecord:
    source: str
    source_key: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> SourceRecord:
        return cls(source=row["source"], source_key=row["sourceKey"])
