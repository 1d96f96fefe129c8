"""Any import file (arbitrary text, values of any JSON type, arbitrary bytes) is read and parsed
without an exception: every problem is a RowError naming the file, a line and a column.

Moved from tests/test_properties.py (the reader and parser need no Neo4j).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from service.ingest.batch import parse_table
from service.ingest.errors import RowError
from service.ingest.readers import read_file
from service.ingest.specs import MDM_SPECS, SOURCE_SPECS, RecordSpec
from tests.hypothesis_settings import SOME

ALL_SPECS: list[RecordSpec] = [*SOURCE_SPECS, *MDM_SPECS]
cell_values = st.one_of(
    st.none(), st.text(max_size=20), st.integers(), st.floats(), st.booleans(),
    st.sampled_from(["", " ", "true", "2026-02-30", "1e400", "-0", "NaN", "\ufeff", "a@b.c", "\x00"]))
json_values = st.recursive(
    cell_values, lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner, max_size=2),
    max_leaves=4)


def headers_of(spec: RecordSpec) -> st.SearchStrategy[list[str]]:
    known = sorted(spec.headers)
    return st.lists(st.sampled_from(known) | st.text(max_size=6), min_size=0, max_size=len(known) + 1)


def quoted(value: Any) -> str:
    text = "" if value is None else str(value)
    return '"' + text.replace('"', '""') + '"'


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[RecordSpec, bytes, str]:
    spec = draw(st.sampled_from(ALL_SPECS))
    headers = draw(headers_of(spec))
    rows = draw(st.lists(st.lists(cell_values, min_size=0, max_size=len(headers) + 1), max_size=5))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    lines = [",".join(quoted(h) for h in headers)] + [",".join(quoted(v) for v in row) for row in rows]
    text = draw(st.sampled_from(["", "\ufeff"])) + ending.join(lines) + draw(st.sampled_from(["", ending]))
    return spec, text.encode("utf-8"), "csv"


@st.composite
def jsonl_files(draw: st.DrawFn) -> tuple[RecordSpec, bytes, str]:
    spec = draw(st.sampled_from(ALL_SPECS))
    keys = st.sampled_from(sorted(spec.headers)) | st.text(max_size=4)
    records = draw(st.lists(st.one_of(st.dictionaries(keys, json_values, max_size=len(spec.headers)), json_values),
                            max_size=5))
    return spec, "".join(json.dumps(record) + "\n" for record in records).encode("utf-8"), "jsonl"


def check_errors(spec: RecordSpec, file: Path, content: bytes, errors: list[RowError]) -> None:
    lines = content.count(b"\n") + content.count(b"\r") + 1
    for error in errors:
        assert isinstance(error, RowError)
        assert error.file == str(file), error
        assert 0 <= error.line <= lines, error
        assert isinstance(error.column, str) and error.reason, error
        assert isinstance(error.id, str) and (error.line > 0 or not error.id), error  # a file error names no record
        if not error.reason.startswith("unknown"):  # else the column is the unknown one, as the file has it
            assert error.column == "-" or error.column in spec.headers, error


def read_and_parse(spec: RecordSpec, file: Path) -> list[RowError]:
    errors: list[RowError] = []
    raw = read_file(spec, file, errors)
    parse_table(raw, errors, datetime.now(UTC))
    return errors


@SOME
@given(made=st.one_of(csv_files(), jsonl_files()))
def test_any_file_is_read_without_a_crash_and_every_problem_is_named(
        tmp_path: Path, made: tuple[RecordSpec, bytes, str]) -> None:
    spec, content, suffix = made
    file = tmp_path / f"{spec.name}.{suffix}"
    file.write_bytes(content)
    check_errors(spec, file, content, read_and_parse(spec, file))


@SOME
@given(spec=st.sampled_from(ALL_SPECS), content=st.binary(max_size=200), suffix=st.sampled_from(["csv", "jsonl"]))
def test_any_bytes_are_read_without_a_crash(tmp_path: Path, spec: RecordSpec, content: bytes, suffix: str) -> None:
    file = tmp_path / f"{spec.name}.{suffix}"
    file.write_bytes(content)
    check_errors(spec, file, content, read_and_parse(spec, file))
