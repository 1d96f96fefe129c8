"""Reads export files (CSV or JSON Lines) into raw tables: one dict of raw values per record."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.ingest.errors import RowError
from service.ingest.specs import RecordSpec

SUFFIXES = (".csv", ".jsonl")
csv.field_size_limit(1 << 20)


@dataclass
class RawTable:
    """The records of one file (or one mutation), before parsing."""

    spec: RecordSpec
    origin: str  # a file path, or a mutation name
    records: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (line, values)


def find_files(path: Path, specs: tuple[RecordSpec, ...], errors: list[RowError]) -> list[tuple[RecordSpec, Path]]:
    """The export files of a folder (or a single file), each matched to its spec by name."""
    by_name = {spec.name: spec for spec in specs}
    candidates = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES) if path.is_dir() else [path]
    if not path.exists():
        errors.append(RowError(str(path), 0, "-", "no such file or folder"))
        return []
    found = []
    for file in candidates:
        spec = by_name.get(file.stem)
        if spec is None or file.suffix not in SUFFIXES:
            expected = ", ".join(f"{name}.csv" for name in by_name)
            errors.append(RowError(str(file), 0, "-", f"unknown file; expected one of {expected} (or .jsonl)"))
        else:
            found.append((spec, file))
    stems = [spec.name for spec, _ in found]
    for spec, file in found:
        if stems.count(spec.name) > 1:
            errors.append(RowError(str(file), 0, "-", f"{spec.name} is given both as CSV and as JSON Lines"))
    if path.is_dir() and not candidates:
        errors.append(RowError(str(path), 0, "-", "the folder holds no export files"))
    return found


def read_file(spec: RecordSpec, file: Path, errors: list[RowError]) -> RawTable:
    table = RawTable(spec, str(file))
    try:
        rows = _read_jsonl(spec, file, errors) if file.suffix == ".jsonl" else _read_csv(spec, file, errors)
        table.records.extend(rows)
    except UnicodeDecodeError as error:
        errors.append(RowError(str(file), 0, "-", f"not UTF-8 text ({error.reason} at byte {error.start})"))
    except OSError as error:
        errors.append(RowError(str(file), 0, "-", f"cannot read: {error.strerror}"))
    return table


def _read_csv(spec: RecordSpec, file: Path, errors: list[RowError]) -> Iterator[tuple[int, dict[str, Any]]]:
    with file.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            headers = [header.strip() for header in next(reader)]
        except StopIteration:
            errors.append(RowError(str(file), 1, "-", "the file is empty (no header line)"))
            return
        except csv.Error as error:
            errors.append(RowError(str(file), 1, "-", f"malformed CSV header: {error}"))
            return
        unknown = [h for h in headers if h not in spec.headers]
        for header in unknown:
            errors.append(RowError(str(file), 1, header,
                                   f"unknown column; {spec.name} has {', '.join(c.header for c in spec.columns)}"))
        missing = [c.header for c in spec.columns if c.identity and c.header not in headers]
        for header in missing:
            errors.append(RowError(str(file), 1, header, "required column is missing"))
        if len(set(headers)) != len(headers):
            errors.append(RowError(str(file), 1, "-", "a column name is repeated"))
        if unknown or missing or len(set(headers)) != len(headers):
            return
        line = reader.line_num
        try:
            for cells in reader:
                if not any(cell.strip() for cell in cells):
                    line = reader.line_num
                    continue
                if len(cells) != len(headers):
                    errors.append(RowError(str(file), line + 1, "-",
                                           f"{len(cells)} cells where the header has {len(headers)} columns"))
                else:
                    yield line + 1, dict(zip(headers, cells, strict=True))
                line = reader.line_num
        except csv.Error as error:  # named by the line its row starts on (a quoted value may run on to the end)
            errors.append(RowError(str(file), line + 1, "-", f"malformed CSV: {error}"))


def _read_jsonl(spec: RecordSpec, file: Path, errors: list[RowError]) -> Iterator[tuple[int, dict[str, Any]]]:
    with file.open(encoding="utf-8-sig") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as error:
                errors.append(RowError(str(file), line, "-", f"not JSON: {error.msg}"))
                continue
            except RecursionError:
                errors.append(RowError(str(file), line, "-", "not a record: the JSON is nested too deeply"))
                continue
            if not isinstance(record, dict):
                errors.append(RowError(str(file), line, "-", "each line must be one JSON object"))
                continue
            unknown = [name for name in record if name not in spec.headers]
            for name in unknown:
                errors.append(RowError(str(file), line, name, f"unknown field for {spec.name}",
                                       id=spec.record_id(record)))
            if not unknown:
                yield line, record
