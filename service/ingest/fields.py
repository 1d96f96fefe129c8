"""Parsers for one CSV cell each: they return the graph value or raise ValueError with the reason."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timezone

# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the sources' job.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Salesforce's standard opportunity stages.
OPPORTUNITY_STAGES = frozenset({
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
})
WON_STAGE = "Closed Won"
CLOSED_STAGES = frozenset({"Closed Won", "Closed Lost"})


def text(value: str) -> str:
    return value.strip()


def key(value: str) -> str:
    value = value.strip()
    if len(value) > 255:
        raise ValueError("an id may have at most 255 characters")
    return value


def email(value: str) -> str:
    normalised = value.strip().lower()
    if not EMAIL.match(normalised):
        raise ValueError(f"{value!r} is not an email address")
    return normalised


def amount(value: str) -> float:
    try:
        number = float(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{value!r} must be a finite amount >= 0")
    return number


def stage(value: str) -> str:
    value = value.strip()
    if value not in OPPORTUNITY_STAGES:
        raise ValueError(f"{value!r} is not a known stage ({', '.join(sorted(OPPORTUNITY_STAGES))})")
    return value


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD)") from None


def iso_datetime(value: str) -> datetime:
    """An ISO 8601 timestamp; one without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def url(value: str) -> str:
    value = value.strip()
    if not value.startswith(("http://", "https://", "/")):
        raise ValueError(f"{value!r} is not a URL (http://, https:// or a /path)")
    return value
