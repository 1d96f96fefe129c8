"""Reads one CSV export against its FileSpec: every cell parsed, every error collected."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from service.ingest import fields
from service.ingest.errors import RowError


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    parse: Callable[[str], Any]
    required: bool = True


@dataclass(frozen=True)
class FileSpec:
    file_name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # fields that identify a row; a repeated key is an error


def read_csv(path: Path, spec: FileSpec, errors: list[RowError]) -> list[dict[str, Any]]:
    """Parse every row; append a RowError per bad cell to `errors` and return the good rows."""
    name = str(path)
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        errors.append(RowError(name, 0, "-", f"cannot open: {error.strerror}"))
        return []
    with handle:
        reader = csv.DictReader(handle)
        headers = reader.fieldnames or []
        missing = [c.header for c in spec.columns if c.required and c.header not in headers]
        if missing:
            errors.extend(RowError(name, 1, header, "required column is missing") for header in missing)
            return []
        rows: list[dict[str, Any]] = []
        first_line: dict[tuple[Any, ...], int] = {}
        try:
            for row in reader:
                line = reader.line_num
                record = _parse_row(row, spec, name, line, errors)
                if record is None:
                    continue
                identity = tuple(record[f] for f in spec.key)
                if identity in first_line:
                    errors.append(RowError(name, line, spec.key[0],
                                           f"duplicate key {identity!r}, first on line {first_line[identity]}"))
                    continue
                first_line[identity] = line
                record["_line"] = line
                rows.append(record)
        except (csv.Error, UnicodeDecodeError) as error:
            errors.append(RowError(name, reader.line_num, "-", f"unreadable CSV: {error}"))
        return rows


def _parse_row(row: dict[str | None, Any], spec: FileSpec, file: str, line: int,
               errors: list[RowError]) -> dict[str, Any] | None:
    if None in row:
        errors.append(RowError(file, line, "-", "more cells than columns in the header"))
        return None
    record: dict[str, Any] = {}
    valid = True
    for column in spec.columns:
        raw = row.get(column.header)
        if raw is None or not raw.strip():
            if column.required:
                errors.append(RowError(file, line, column.header, "a value is required"))
                valid = False
            record[column.field] = None
            continue
        try:
            record[column.field] = column.parse(raw)
        except ValueError as error:
            errors.append(RowError(file, line, column.header, str(error)))
            valid = False
    return record if valid else None


ACCOUNTS = FileSpec("accounts.csv", (
    Column("Id", "sourceKey", fields.key),
    Column("Name", "name", fields.text),
    Column("Industry", "industry", fields.text, required=False),
    Column("BillingCountry", "country", fields.text, required=False),
), key=("sourceKey",))

PEOPLE = FileSpec("people.csv", (
    Column("Id", "sourceKey", fields.key),
    Column("Email", "email", fields.email),
    Column("FirstName", "firstName", fields.text, required=False),
    Column("LastName", "lastName", fields.text, required=False),
    Column("Title", "title", fields.text, required=False),
), key=("sourceKey",))

ACCOUNT_PEOPLE = FileSpec("account-people.csv", (
    Column("AccountId", "accountKey", fields.key),
    Column("PersonId", "personKey", fields.key),
    Column("Role", "role", fields.text, required=False),
), key=("accountKey", "personKey"))

OPPORTUNITIES = FileSpec("opportunities.csv", (
    Column("Id", "sourceKey", fields.key),
    Column("AccountId", "accountKey", fields.key),
    Column("Name", "name", fields.text),
    Column("Amount", "amount", fields.amount),
    Column("StageName", "stage", fields.stage),
    Column("CloseDate", "closeDate", fields.iso_date),
), key=("sourceKey",))

WEB_VISITS = FileSpec("web-visits.csv", (
    Column("Id", "sourceKey", fields.key),
    Column("PersonId", "personKey", fields.key),
    Column("Url", "url", fields.url),
    Column("VisitedAt", "visitedAt", fields.iso_datetime),
), key=("sourceKey",))

SAME_COMPANY = FileSpec("same-company.csv", (
    Column("LinkId", "mdmId", fields.key),
    Column("SourceA", "sourceA", fields.text),
    Column("AccountIdA", "keyA", fields.key),
    Column("SourceB", "sourceB", fields.text),
    Column("AccountIdB", "keyB", fields.key),
), key=("mdmId",))
