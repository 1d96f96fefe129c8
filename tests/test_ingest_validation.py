"""Bad input is rejected whole, with an error naming file, line, column and reason; nothing is written."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from service.database import Graph, Neo4jConnection
from service.ingest.errors import ImportRejected
from service.ingest.pipeline import ingest_path
from service.queries import Q
from tests.helpers import run_cli
from tests.snapshot import snapshot

pytestmark = pytest.mark.asyncio

OPPORTUNITY_HEADER = "Id,AccountId,Name,Amount,StageName,CloseDate\n"
GOOD_OPPORTUNITY = "N1,0011A00001,New deal,10,Prospecting,2027-01-01\n"
VISIT_HEADER = "Id,PersonId,Url,VisitedAt\n"

# (file name, content, expected line, column, record id, words of the reason); the seed's Marketo 1 is in the graph.
# The id is the record's key as the row gives it, empty for a problem with a whole file or a row without a valid key.
CASES: list[tuple[str, bytes | str, int, str, str, str]] = [
    ("people.csv", "Id,Email\n9,ok@x.example\n10,not-an-email\n", 3, "Email", "10", "not an email address"),
    ("people.csv", "Id,Email\n9,a@x.example\n10,A@x.example\n", 3, "Email", "10", "already person Id '9'"),
    ("people.csv", "Id,Email,Unsubscribed\n9,a@x.example,maybe\n", 2, "Unsubscribed", "9", "not true or false"),
    ("people.csv", "Id,Email\n,nobody@x.example\n", 2, "Id", "", "a value is required"),
    ("people.csv", "Id,Email\n" + "9" * 256 + ",long@x.example\n", 2, "Id", "", "at most 255 characters"),
    ("opportunities.csv", OPPORTUNITY_HEADER + GOOD_OPPORTUNITY + "N2,0011A00001,Bad,-5,Closed Won,2026-01-01\n", 3,
     "Amount", "N2", "negative"),
    ("opportunities.csv", OPPORTUNITY_HEADER + "N2,0011A00001,Bad,12k,Closed Won,2026-01-01\n", 2, "Amount", "N2",
     "not a number"),
    ("opportunities.csv", OPPORTUNITY_HEADER + "N2,0011A00001,Bad,1,Won,2026-01-01\n", 2, "StageName", "N2",
     "not a known stage"),
    ("opportunities.csv", OPPORTUNITY_HEADER + " N2 ,0011A00001,Bad,1,Closed Won,2026-13-01\n", 2, "CloseDate", "N2",
     "not an ISO date"),
    ("opportunities.csv", OPPORTUNITY_HEADER + "N2,NO-SUCH,Bad,1,Closed Won,2026-01-01\n", 2, "AccountId", "N2",
     "no accounts record with Id 'NO-SUCH'"),
    ("opportunities.csv", OPPORTUNITY_HEADER + GOOD_OPPORTUNITY + GOOD_OPPORTUNITY, 3, "Id", "N1",
     "duplicate key N1: first on line 2"),
    ("opportunities.csv",
     "Id,AccountId,Name,Amount,StageName,CloseDate,CurrencyIsoCode\nN2,0011A00001,Bad,1,Closed Won,2026-01-01,euro\n",
     2, "CurrencyIsoCode", "N2", "ISO 4217"),
    ("web-visits.csv", VISIT_HEADER + "W1,1002,https://x.example/,yesterday\n", 2, "VisitedAt", "W1",
     "not an ISO 8601 date-time"),
    ("web-visits.csv", VISIT_HEADER + "W1,4242,https://x.example/,2026-01-01T00:00:00Z\n", 2, "PersonId", "W1",
     "no people record with Id '4242'"),
    ("web-visits.csv", VISIT_HEADER + "W1,1002,javascript:alert(1),2026-01-01T00:00:00Z\n", 2, "Url", "W1",
     "not a URL"),
    ("account-people.csv", "AccountId,PersonId\n0011A00001,4242\n", 2, "PersonId", "0011A00001, 4242",
     "no people record with Id '4242'"),
    ("account-people.csv", "AccountId,PersonId,IsDeleted\n0011A00001,1002,perhaps\n", 2, "IsDeleted",
     "0011A00001, 1002", "not true or false"),
    ("account-people.csv", "AccountId,PersonId\n0011A00001,\n", 2, "PersonId", "", "a value is required"),
    ("accounts.csv", "Id,Name\nX1,\n", 2, "Name", "X1", "a value is required"),
    ("accounts.csv", "Id,Name,NumberOfEmployees\nX1,Acme,-3\n", 2, "NumberOfEmployees", "X1", "not a whole number"),
    ("accounts.csv", "Name\nAcme\n", 1, "Id", "", "required column is missing"),
    ("accounts.csv", "Id,Name,Colour\nX1,Acme,red\n", 1, "Colour", "", "unknown column"),
    ("accounts.csv", "Id,Name\nX1,Acme,extra\n", 2, "-", "", "3 cells where the header has 2 columns"),
    ("accounts.csv", "Id,Name\nX1,\"unterminated\n", 2, "-", "", "malformed CSV"),
    ("accounts.csv", b"Id,Name\nX1,Caf\xe9\n", 0, "-", "", "not UTF-8"),
    ("accounts.csv", "Id,Name,IsDeleted\nX1,Acme,perhaps\n", 2, "IsDeleted", "X1", "not true or false"),
    ("accounts.csv", "", 1, "-", "", "the file is empty"),
    ("contacts.csv", "Id,Email\n1,a@x.example\n", 0, "-", "", "unknown file"),
    ("accounts.jsonl", '{"Id": "X1", "Name": "Acme"}\n{"Id": "X2", "Name": \n', 2, "-", "", "not JSON"),
    ("accounts.jsonl", '{"Id": "X1", "Name": "Acme", "Amount": 5}\n', 1, "Amount", "X1", "unknown field"),
    ("accounts.jsonl", '{"Id": "X1", "Name": true}\n', 1, "Name", "X1", "not text"),
    ("accounts.jsonl", '{"Id": 7, "Name": ["Acme"]}\n', 1, "Name", "7", "not text"),
    ("accounts.jsonl", '{"Id": null, "Name": "Acme"}\n', 1, "Id", "", "a value is required"),
]


@pytest.mark.parametrize(("name", "content", "line", "column", "record", "reason"), CASES,
                         ids=[f"{case[0]}:{case[3]}:{case[5][:24]}" for case in CASES])
async def test_a_bad_file_is_rejected_whole_and_names_the_value(
    seeded_graph: Graph, tmp_path: Path, name: str, content: bytes | str, line: int, column: str, record: str,
    reason: str,
) -> None:
    file = tmp_path / name
    file.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = await snapshot(seeded_graph)
    with pytest.raises(ImportRejected) as rejected:
        await ingest_path(seeded_graph, file, "Marketo 1")
    assert any(e.file == str(file) and e.line == line and e.id == record and e.column == column and reason in e.reason
               for e in rejected.value.errors), rejected.value.errors
    assert await snapshot(seeded_graph) == before


@pytest.mark.parametrize(("content", "column", "reason"), [
    ("LinkId,SourceA,AccountIdA,SourceB,AccountIdB\nL9,Marketo 1,0011A00001,Marketo 2,NOPE\n", "AccountIdB",
     "of source 'Marketo 2'"),
    ("LinkId,SourceA,AccountIdA,SourceB,AccountIdB\nL9,Marketo 1,0011A00001,Marketo 1,0011A00001\n", "AccountIdB",
     "cannot be linked to itself"),
    ("LinkId,SourceA,AccountIdA,SourceB,AccountIdB,UpdatedAt\nL9,Marketo 1,0011A00001,Marketo 2,0012B00007,soon\n",
     "UpdatedAt", "ISO 8601"),
])
async def test_a_bad_mdm_link_is_rejected(seeded_graph: Graph, tmp_path: Path, content: str, column: str,
                                          reason: str) -> None:
    file = tmp_path / "same-company.csv"
    file.write_text(content)
    before = await snapshot(seeded_graph)
    with pytest.raises(ImportRejected) as rejected:
        await ingest_path(seeded_graph, file, mdm=True)
    assert [(e.line, e.id, e.column) for e in rejected.value.errors if reason in e.reason] == [(2, "L9", column)]
    assert await snapshot(seeded_graph) == before


async def test_one_bad_file_rejects_the_whole_folder(seeded_graph: Graph, tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_text("Id,Name\nNEW1,Good account\n")
    (tmp_path / "people.csv").write_text("Id,Email\nNEW2,broken@\n")
    before = await snapshot(seeded_graph)
    with pytest.raises(ImportRejected):
        await ingest_path(seeded_graph, tmp_path, "Marketo 1")
    assert await snapshot(seeded_graph) == before


async def test_the_cli_reports_errors_as_csv_and_imports_good_files(
    graph: Graph, neo4j_connection: Neo4jConnection, tmp_path: Path,
) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "people.csv").write_text("Id,Email\n1,ok@x.example\n2,nope\n3,\n,nobody@x.example\n")
    report = tmp_path / "errors.csv"
    failed = run_cli(neo4j_connection, "ingest", "--source", "CRM 9", "--report", str(report), str(bad))
    assert failed.returncode == 1
    assert "people.csv:3: id '2': column 'Email': 'nope' is not an email address" in failed.stderr
    assert "people.csv:4: id '3': column 'Email': a value is required" in failed.stderr
    assert "people.csv:5: column 'Id': a value is required" in failed.stderr  # no id to name
    with report.open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["file", "line", "id", "column", "reason"]
    assert [(r["line"], r["id"], r["column"]) for r in rows] == [("3", "2", "Email"), ("4", "3", "Email"),
                                                                  ("5", "", "Id")]
    assert rows[0]["file"].endswith("people.csv") and "not an email address" in rows[0]["reason"]

    good = tmp_path / "good"
    good.mkdir()
    (good / "people.csv").write_text("Id,Email\n1,ok@x.example\n2,fine@x.example\n")
    done = run_cli(neo4j_connection, "ingest", "--source", "CRM 9", str(good))
    assert done.returncode == 0, done.stderr
    assert "Ingested CRM 9: 2 rows in" in done.stdout and "rows/s" in done.stdout
    assert [r["email"] for r in await graph.run(Q.PEOPLE_BY_EMAIL, emails=["ok@x.example", "fine@x.example"])] == [
        "ok@x.example", "fine@x.example"]
