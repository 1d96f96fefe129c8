"""Every import and upsert error names the record's own id (its source key, or key pair): what a user
searches for in the source system. Empty when the error is about a whole file or the key is missing."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from service.api.mutation import UpsertRejected
from service.ingest.batch import parse_table
from service.ingest.errors import ImportRejected, RowError
from service.ingest.events import event_tables
from service.ingest.readers import RawTable
from service.ingest.specs import ACCOUNT_PEOPLE, OPPORTUNITIES, PEOPLE, SAME_COMPANY, WEB_VISITS, RecordSpec

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("spec", "values", "expected"), [
    (PEOPLE, {"Id": "1001", "Email": "broken"}, "1001"),
    (PEOPLE, {"Id": "  1001 ", "Email": "broken"}, "1001"),
    (PEOPLE, {"Id": 1001}, "1001"),  # JSON Lines may give a number
    (SAME_COMPANY, {"LinkId": "MDM-1", "SourceA": ""}, "MDM-1"),
    (ACCOUNT_PEOPLE, {"AccountId": "A1", "PersonId": "P2", "Role": "x"}, "A1, P2"),
    (PEOPLE, {"Email": "a@b.example"}, ""),
    (PEOPLE, {"Id": " "}, ""),
    (PEOPLE, {"Id": None}, ""),
    (PEOPLE, {"Id": True}, ""),
    (PEOPLE, {"Id": "x" * 256}, ""),
    (PEOPLE, {"Id": "a\x00b"}, ""),
    (ACCOUNT_PEOPLE, {"AccountId": "A1", "PersonId": ""}, ""),
])
def test_the_record_id_is_the_key_as_the_row_gives_it(spec: RecordSpec, values: dict[str, Any], expected: str) -> None:
    assert spec.record_id(values) == expected


def test_an_error_line_and_the_report_name_the_id_and_a_file_error_has_none(tmp_path: Path) -> None:
    errors = [RowError("people.csv", 3, "Email", "'nope' is not an email address", id="1001"),
              RowError("people.csv", 0, "-", "not UTF-8")]
    assert [str(e) for e in errors] == ["people.csv:3: id '1001': column 'Email': 'nope' is not an email address",
                                        "people.csv:0: column '-': not UTF-8"]
    rejected = ImportRejected(errors)
    assert "  people.csv:3: id '1001': column 'Email'" in str(rejected)
    rejected.write_report(tmp_path / "errors.csv")
    with (tmp_path / "errors.csv").open(newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["file", "line", "id", "column", "reason"],
            ["people.csv", "3", "1001", "Email", "'nope' is not an email address"],
            ["people.csv", "0", "", "-", "not UTF-8"]]


def test_parsing_names_the_id_of_each_bad_row_even_when_another_column_is_bad() -> None:
    valid = {"AccountId": "A1", "Name": "Deal", "Amount": "10", "StageName": "Prospecting", "CloseDate": "2027-01-01"}
    raw = RawTable(OPPORTUNITIES, "opportunities.csv", [
        (2, {**valid, "Id": "O1"}),
        (3, {**valid, "Id": "O2", "Amount": "-5"}),
        (4, {**valid, "Id": "O1"}),
        (5, {**valid, "Id": "", "CloseDate": "soon"}),
    ])
    errors: list[RowError] = []
    parse_table(raw, errors, NOW)
    assert [(e.line, e.id, e.column) for e in errors] == [
        (3, "O2", "Amount"), (4, "O1", "Id"), (5, "", "Id"), (5, "", "CloseDate")]


def test_a_visit_in_the_future_names_its_id() -> None:
    errors: list[RowError] = []
    parse_table(RawTable(WEB_VISITS, "web-visits.csv", [
        (2, {"Id": "V1", "PersonId": "1002", "Url": "https://x.example/", "VisitedAt": "3000-01-01T00:00:00Z"})]),
        errors, NOW)
    assert [(e.line, e.id, e.column) for e in errors] == [(2, "V1", "VisitedAt")]
    assert "in the future" in errors[0].reason


def test_people_with_one_email_under_two_ids_name_the_second() -> None:
    errors: list[RowError] = []
    parse_table(RawTable(PEOPLE, "people.csv", [(2, {"Id": "9", "Email": "a@x.example"}),
                                                (3, {"Id": "10", "Email": "A@x.example"})]), errors, NOW)
    assert [(e.line, e.id, e.column) for e in errors] == [(3, "10", "Email")]


def test_an_event_with_an_unknown_field_names_its_id() -> None:
    with pytest.raises(ImportRejected) as rejected:
        event_tables({"source": "CRM 1", "events": [
            {"type": "accountPerson", "AccountId": "A1", "PersonId": "P2", "Colour": "red"},
            {"type": "nope", "Id": "X"}]})
    assert [(e.line, e.id, e.column) for e in rejected.value.errors] == [(0, "A1, P2", "Colour"), (1, "", "type")]


def test_a_rejected_upsert_names_the_id_in_its_message_and_extensions() -> None:
    rejected = UpsertRejected(PEOPLE, ImportRejected([
        RowError("people", 1, "Email", "'broken' is not an email address", id="n2"),
        RowError("people", 2, "Id", "a value is required"),
        RowError("-", 0, "source", "a source name is required")]))
    assert str(rejected) == ("rejected, nothing written: people[1].email (id 'n2'): 'broken' is not an email address; "
                             "people[2].id: a value is required; -: a source name is required")
    assert rejected.extensions["errors"] == [
        {"record": 1, "id": "n2", "field": "email", "reason": "'broken' is not an email address"},
        {"record": 2, "id": "", "field": "id", "reason": "a value is required"},
        {"record": 0, "id": "", "field": "source", "reason": "a source name is required"}]
