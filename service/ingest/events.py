"""A JSON batch of events from one source (POST /events), turned into import tables.

    {"source": "Marketo 1", "events": [{"type": "webVisit", "Id": "...", "PersonId": "...", ...}]}

Each event carries the columns of its record kind (docs/import-format.md) besides `type`. The batch
is checked whole, like an import folder: one bad event rejects it, and nothing is written.
"""

from __future__ import annotations

from typing import Any

from service.ingest.errors import ImportRejected, RowError
from service.ingest.readers import RawTable
from service.ingest.specs import (
    ACCOUNT_PEOPLE,
    ACCOUNTS,
    CAMPAIGN_MEMBERS,
    LIST_MEMBERS,
    MDM_SOURCE,
    OPPORTUNITIES,
    PEOPLE,
    SAME_COMPANY,
    WEB_VISITS,
    RecordSpec,
)

MAX_EVENTS = 1000
EVENT_TYPES: dict[str, RecordSpec] = {
    "person": PEOPLE, "account": ACCOUNTS, "accountPerson": ACCOUNT_PEOPLE, "opportunity": OPPORTUNITIES,
    "webVisit": WEB_VISITS, "campaignMember": CAMPAIGN_MEMBERS, "listMember": LIST_MEMBERS,
    "sameCompanyLink": SAME_COMPANY,
}


def event_tables(body: Any) -> tuple[str, list[RawTable]]:
    """The source and the tables of a batch; ImportRejected naming the event and field if malformed."""
    errors: list[RowError] = []
    if (not isinstance(body, dict) or not isinstance(body.get("source"), str)
            or not isinstance(body.get("events"), list)):
        raise ImportRejected([RowError("events", 0, "-", 'expected {"source": "...", "events": [...]}')])
    source, events = body["source"], body["events"]
    if not 0 < len(events) <= MAX_EVENTS:
        raise ImportRejected([RowError("events", 0, "-", f"a batch holds 1 to {MAX_EVENTS} events")])
    tables: dict[str, RawTable] = {}
    for index, event in enumerate(events):
        kind = event.get("type") if isinstance(event, dict) else None
        spec = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
        if spec is None:
            errors.append(RowError("events", index, "type", f"must be one of {', '.join(EVENT_TYPES)}"))
            continue
        if (spec is SAME_COMPANY) != (source == MDM_SOURCE):
            errors.append(RowError("events", index, "type",
                                   f"sameCompanyLink events, and only they, come from source {MDM_SOURCE!r}"))
            continue
        values = {k: v for k, v in event.items() if k != "type"}
        unknown = sorted(set(values) - spec.headers)
        if unknown:
            errors.append(RowError("events", index, unknown[0], f"unknown field for a {kind} event",
                                   id=spec.record_id(values)))
            continue
        tables.setdefault(spec.name, RawTable(spec, "events")).records.append((index, values))
    if errors:
        raise ImportRejected(errors)
    return source, list(tables.values())
