"""Explanations kept as they were: the evidence of a member (the member page's, with its deals,
accounts and visits) as JSON, stored with the entry into a segment, and read back into the same
values, Neo4j's dates and times included, so the API shows a kept explanation as it shows a live one."""

from __future__ import annotations

import json
from typing import Any

from neo4j.time import Date, DateTime

Evidence = list[dict[str, Any]]


def _encode(value: Any) -> dict[str, str]:
    if isinstance(value, DateTime):
        return {"$datetime": value.iso_format()}
    if isinstance(value, Date):
        return {"$date": value.iso_format()}
    raise TypeError(f"an explanation cannot hold a {type(value).__name__}")


def _decode(value: dict[str, Any]) -> Any:
    if value.keys() == {"$datetime"}:
        return DateTime.from_iso_format(value["$datetime"])
    if value.keys() == {"$date"}:
        return Date.from_iso_format(value["$date"])
    return value


def dumps(evidence: Evidence) -> str:
    return json.dumps(evidence, default=_encode, sort_keys=True, separators=(",", ":"))


def loads(text: str) -> Evidence:
    kept: Evidence = json.loads(text, object_hook=_decode)
    return kept
