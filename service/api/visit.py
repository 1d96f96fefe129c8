from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry


@strawberry.type(description="A web page visit, as the source that recorded it reports it.")
class WebVisit:
    source: str
    source_key: str
    url: str
    visited_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> WebVisit:
        return cls(source=row["source"], source_key=row["sourceKey"], url=row["url"],
                   visited_at=row["visitedAt"].to_native())
