"""Neo4j's temporal values as Python's, for GraphQL fields that may be missing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def native_datetime(value: Any) -> datetime | None:
    """A Neo4j DateTime as a datetime; None stays None."""
    return value.to_native() if value is not None else None


def native_date(value: Any) -> date | None:
    """A Neo4j Date as a date; None stays None."""
    return value.to_native() if value is not None else None
