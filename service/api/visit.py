from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry


@strawberry.type(description="A web page visit, as the source that recorded it reports it.")
class WebVisit:
    source: str = strawberry.field(description="The name of the source that recorded the visit.")
    source_key: str = strawberry.field(description="The visit's id in that source.")
    url: str = strawberry.field(description="The page's URL, as the source gave it.")
    visited_at: datetime = strawberry.field(description="When the page was visited (ISO 8601 date-time, UTC).")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> WebVisit:
        return cls(source=row["source"], source_key=row["sourceKey"], url=row["url"],
                   visited_at=row["visitedAt"].to_native())
