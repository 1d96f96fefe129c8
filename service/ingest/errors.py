"""Import errors that name the file, the line, the column and the reason."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: column {self.column!r}: {self.reason}"


class ImportRejected(Exception):
    """A batch with invalid rows; nothing of it was written."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        shown = "\n".join(f"  {error}" for error in errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"import rejected, nothing written: {len(errors)} invalid value(s)\n{shown}{more}")
