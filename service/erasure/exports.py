"""Removing an erased person from the files activations wrote under EXPORTS_DIR.

Activations write `<EXPORTS_DIR>/<activation id>/` folders (service.activation.activate):

- `marketo-<instance>.csv`: `id,email`; the person's lines are found by their email;
- `marketo-<instance>-requests.json`: the add-to-list bodies; the lead ids of the lines removed
  from the CSV beside it are removed, and the bodies are cut into batches again;
- `linkedin-matched-audience.csv`: SHA-256 of the email; the person's lines are found by it.

Each changed file is rewritten as the activation would have written it without the person, to a
temporary file that then replaces it (a reader never sees half a file). Other files are left alone.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from service.activation import formats

MARKETO_SUFFIX = "-requests.json"
LINKEDIN_FILE = "linkedin-matched-audience.csv"


@dataclass
class ExportScrub:
    files: list[str] = field(default_factory=list)  # the files changed
    lines: int = 0  # CSV lines (people) removed
    failed: list[str] = field(default_factory=list)  # "<file>: <why>" for files that could not be read or written


def scrub_exports(exports_dir: Path, email: str) -> ExportScrub:
    """Remove the person with this normalised email from every activation file under exports_dir."""
    scrub = ExportScrub()
    if not exports_dir.is_dir():
        return scrub
    hashed = formats.sha256_email(email)
    for folder in sorted(p for p in exports_dir.iterdir() if p.is_dir()):
        for file in sorted(folder.glob("marketo-*.csv")):
            _guarded(file, scrub, partial(_scrub_marketo, file, email, scrub))
        linkedin = folder / LINKEDIN_FILE
        if linkedin.is_file():
            _guarded(linkedin, scrub, partial(_scrub_csv, linkedin, lambda row: row[:1] == [hashed], scrub))
    return scrub


def _guarded(file: Path, scrub: ExportScrub, work: Callable[[], object]) -> None:
    """A file that cannot be read or rewritten (edited by hand, say) is reported, and the others done."""
    try:
        work()
    except (OSError, ValueError, csv.Error, KeyError, TypeError) as error:
        scrub.failed.append(f"{file}: {type(error).__name__}: {error}")


def _read_csv(file: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(file.read_text(encoding="utf-8"), newline="")))
    return (rows[0], rows[1:]) if rows else ([], [])


def _scrub_csv(file: Path, erased: Callable[[list[str]], bool], scrub: ExportScrub) -> list[list[str]]:
    """Drop the rows `erased` picks; return them."""
    header, rows = _read_csv(file)
    removed = [row for row in rows if erased(row)]
    if removed:
        _replace(file, formats.csv_bytes(header, [row for row in rows if not erased(row)]))
        scrub.files.append(str(file))
        scrub.lines += len(removed)
    return removed


def _scrub_marketo(file: Path, email: str, scrub: ExportScrub) -> None:
    removed = _scrub_csv(file, lambda row: len(row) > 1 and row[1].strip().lower() == email, scrub)
    requests = file.with_name(file.stem + MARKETO_SUFFIX)
    if removed and requests.is_file():
        ids = {row[0] for row in removed}
        _guarded(requests, scrub, lambda: _scrub_requests(requests, ids, scrub))


def _scrub_requests(requests: Path, ids: set[str], scrub: ExportScrub) -> None:
    bodies = json.loads(requests.read_text(encoding="utf-8"))
    kept = [entry for body in bodies for entry in body["input"] if str(entry["id"]) not in ids]
    _replace(requests, formats.marketo_requests_bytes(kept))
    scrub.files.append(str(requests))


def _replace(file: Path, content: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.chmod(temporary, file.stat().st_mode & 0o777)
        os.replace(temporary, file)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
