"""Cursors and page sizes of the API's pages.

A cursor is the sort key of the last item of a page, base64 so that clients treat it as opaque: an
email for pages of people (email order), `[amount, source, sourceKey]` as JSON for pages of
opportunities (largest amount first). A page after a cursor starts after that key, so it is stable
while items are added or removed.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from typing import Annotated, Any

import strawberry

from service.errors import InvalidArgument

MAX_PAGE = 500
NOT_A_CURSOR = "after: not a cursor returned by this API"

# The paging arguments, described once for every paged field.
First = Annotated[int, strawberry.argument(description=f"How many items the page holds at most: 1 to {MAX_PAGE}.")]
After = Annotated[str | None, strawberry.argument(description=(
    "An opaque cursor: the `endCursor` of the page before, to get the page after it; none for the first page."))]

OpportunityKey = tuple[float | None, str, str]  # (amount, source, sourceKey)


def page_size(first: int) -> int:
    if not 1 <= first <= MAX_PAGE:
        raise InvalidArgument(f"first: must be from 1 to {MAX_PAGE}")
    return first


def encode_cursor(email: str) -> str:
    return base64.urlsafe_b64encode(email.encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument(NOT_A_CURSOR) from None


def encode_opportunity_cursor(row: dict[str, Any]) -> str:
    key = [row["amount"], row["source"], row["sourceKey"]]
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def decode_opportunity_cursor(cursor: str | None) -> OpportunityKey | None:
    if cursor is None:
        return None
    try:
        amount, source, source_key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise InvalidArgument(NOT_A_CURSOR) from None
    amount_ok = amount is None or (isinstance(amount, (int, float)) and not isinstance(amount, bool)
                                   and math.isfinite(amount))
    if not (amount_ok and isinstance(source, str) and isinstance(source_key, str)):
        raise InvalidArgument(NOT_A_CURSOR)
    return (None if amount is None else float(amount)), source, source_key
