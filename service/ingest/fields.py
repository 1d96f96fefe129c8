"""Parsers for one value each (a CSV cell or a JSON value): return the graph value or raise ValueError."""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any

from service.text import normalised_email, plain_text

CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_TEXT = 4096
MAX_KEY = 255
MAX_COUNT = 2**63 - 1  # Neo4j's largest integer

# Salesforce's standard opportunity stages.
OPPORTUNITY_STAGES = frozenset({
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
})
WON_STAGE = "Closed Won"
CLOSED_STAGES = frozenset({"Closed Won", "Closed Lost"})
TRUE_WORDS = frozenset({"true", "1", "yes", "y"})
FALSE_WORDS = frozenset({"false", "0", "no", "n"})


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any) -> str:
    checked = plain_text(value)
    if len(checked) > MAX_TEXT:
        raise ValueError(f"text may have at most {MAX_TEXT} characters")
    return checked


def key(value: Any) -> str:
    checked = plain_text(value)
    if len(checked) > MAX_KEY:
        raise ValueError(f"an id may have at most {MAX_KEY} characters")
    return checked


def email(value: Any) -> str:
    return normalised_email(value)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a number") from None
    except OverflowError:  # an integer beyond any float (JSON Lines may hold one)
        raise ValueError("the number is not finite (too large)") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def amount(value: Any) -> float:
    number = _number(value)
    if number < 0:
        raise ValueError(f"{value!r} is negative; amounts must be >= 0")
    return number


def count(value: Any) -> int:
    number = _number(value)
    if number < 0 or number != int(number):
        raise ValueError(f"{value!r} is not a whole number >= 0")
    if int(number) > MAX_COUNT:
        raise ValueError(f"{value!r} is too large (at most {MAX_COUNT})")
    return int(number)


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = plain_text(value).lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"{value!r} is not true or false")


def currency(value: Any) -> str:
    code = plain_text(value).upper()
    if not CURRENCY.match(code):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return code


def stage(value: Any) -> str:
    checked = plain_text(value)
    if checked not in OPPORTUNITY_STAGES:
        raise ValueError(f"{checked!r} is not a known stage ({', '.join(sorted(OPPORTUNITY_STAGES))})")
    return checked


def iso_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(plain_text(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD)") from None


def iso_datetime(value: Any) -> datetime:
    """An ISO 8601 timestamp; one without a zone is taken as UTC."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(plain_text(value))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value!r} is out of range: in UTC it falls before year 1 or after year 9999") from None
    return moment


def url(value: Any) -> str:
    checked = text(value)
    if not checked.startswith(("http://", "https://", "/")):
        raise ValueError(f"{checked!r} is not a URL (http://, https:// or a /path)")
    return checked
