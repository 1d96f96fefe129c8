"""Import errors that name the file (or mutation), the line (or record), the record's id, the column and the reason."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from service.errors import AccountGraphError, ErrorCode


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    # The record's own id in its source (RecordSpec.record_id), what a user searches for there; empty
    # when the error is about a whole file or the row gives no valid id.
    id: str = field(default="", kw_only=True)
    column: str
    reason: str

    def __str__(self) -> str:
        record = f" id {self.id!r}:" if self.id else ""
        return f"{self.file}:{self.line}:{record} column {self.column!r}: {self.reason}"


class ImportRejected(AccountGraphError):
    """A batch with invalid rows; nothing of it was written."""

    default_code = ErrorCode.IMPORT_REJECTED
    SHOWN = 50

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        shown = "\n".join(f"  {error}" for error in errors[: self.SHOWN])
        more = f"\n  ... and {len(errors) - self.SHOWN} more" if len(errors) > self.SHOWN else ""
        super().__init__(f"import rejected, nothing written: {len(errors)} error(s)\n{shown}{more}")

    def write_report(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=[f.name for f in fields(RowError)])
            writer.writeheader()
            writer.writerows(asdict(error) for error in self.errors)
