"""A source's export folder (or the MDM crosswalk) read and checked as one batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.ingest.csv_files import (
    ACCOUNT_PEOPLE, ACCOUNTS, OPPORTUNITIES, PEOPLE, SAME_COMPANY, WEB_VISITS, FileSpec, read_csv,
)
from service.ingest.errors import ImportRejected, RowError
from service.ingest.fields import CLOSED_STAGES, WON_STAGE

SOURCE_FILES = (ACCOUNTS, PEOPLE, ACCOUNT_PEOPLE, OPPORTUNITIES, WEB_VISITS)
MDM_FILES = (SAME_COMPANY,)
Row = dict[str, Any]


@dataclass
class SourceBatch:
    source: str
    accounts: list[Row] = field(default_factory=list)
    people: list[Row] = field(default_factory=list)
    account_people: list[Row] = field(default_factory=list)
    opportunities: list[Row] = field(default_factory=list)
    web_visits: list[Row] = field(default_factory=list)

    def account_keys(self) -> set[tuple[str, str]]:
        return {(self.source, row["sourceKey"]) for row in self.accounts}


def _read_folder(folder: Path, specs: tuple[FileSpec, ...], errors: list[RowError]) -> dict[str, list[Row]]:
    known = {spec.file_name: spec for spec in specs}
    if not folder.is_dir():
        errors.append(RowError(str(folder), 0, "-", "not a folder"))
        return {}
    for stray in sorted(p.name for p in folder.glob("*.csv") if p.name not in known):
        errors.append(RowError(str(folder / stray), 0, "-", f"unknown file; expected {', '.join(known)}"))
    return {
        name: read_csv(folder / name, spec, errors) if (folder / name).exists() else []
        for name, spec in known.items()
    }


def _check_references(rows: list[Row], file: Path, column: str, field_name: str,
                      known: set[str], what: str, errors: list[RowError]) -> None:
    for row in rows:
        if row[field_name] not in known:
            errors.append(RowError(str(file), row["_line"], column, f"no {what} with Id {row[field_name]!r} in this source"))


def read_source(folder: Path, source: str) -> SourceBatch:
    """Read and validate a source's export folder; raise ImportRejected listing every bad value."""
    errors: list[RowError] = []
    files = _read_folder(folder, SOURCE_FILES, errors)
    if errors:
        raise ImportRejected(errors)
    batch = SourceBatch(source, *(files[spec.file_name] for spec in SOURCE_FILES))
    account_ids = {row["sourceKey"] for row in batch.accounts}
    emails = {row["sourceKey"]: row["email"] for row in batch.people}
    _check_references(batch.account_people, folder / ACCOUNT_PEOPLE.file_name, "AccountId", "accountKey",
                      account_ids, "account", errors)
    _check_references(batch.account_people, folder / ACCOUNT_PEOPLE.file_name, "PersonId", "personKey",
                      set(emails), "person", errors)
    _check_references(batch.opportunities, folder / OPPORTUNITIES.file_name, "AccountId", "accountKey",
                      account_ids, "account", errors)
    _check_references(batch.web_visits, folder / WEB_VISITS.file_name, "PersonId", "personKey",
                      set(emails), "person", errors)
    _check_repeated_emails(batch.people, folder / PEOPLE.file_name, errors)
    if errors:
        raise ImportRejected(errors)
    for row in [*batch.account_people, *batch.web_visits]:
        row["email"] = emails[row["personKey"]]
    for row in batch.opportunities:
        row["isWon"] = row["stage"] == WON_STAGE
        row["isClosed"] = row["stage"] in CLOSED_STAGES
    return batch


def _check_repeated_emails(people: list[Row], file: Path, errors: list[RowError]) -> None:
    seen: dict[str, str] = {}
    for row in people:
        other = seen.setdefault(row["email"], row["sourceKey"])
        if other != row["sourceKey"]:
            errors.append(RowError(str(file), row["_line"], "Email", f"{row['email']} is also person Id {other!r}"))


def read_mdm(folder: Path, known_accounts: set[tuple[str, str]]) -> list[Row]:
    """Read the MDM crosswalk; every link must join two accounts known to the batch."""
    errors: list[RowError] = []
    links = _read_folder(folder, MDM_FILES, errors).get(SAME_COMPANY.file_name, [])
    file = folder / SAME_COMPANY.file_name
    for link in links:
        line = link["_line"]
        for side in ("A", "B"):
            account = (link[f"source{side}"], link[f"key{side}"])
            if account not in known_accounts:
                errors.append(RowError(str(file), line, f"AccountId{side}",
                                       f"no account {account[1]!r} in source {account[0]!r}"))
        if (link["sourceA"], link["keyA"]) == (link["sourceB"], link["keyB"]):
            errors.append(RowError(str(file), line, "AccountIdB", "an account cannot be linked to itself"))
    if errors:
        raise ImportRejected(errors)
    return links
