"""A progress line for long imports, drawn only on a terminal."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


class ProgressBar:
    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.stream = stream
        self.rows = 0
        self.started = time.perf_counter()
        self.visible = stream.isatty()

    def advance(self, rows: int) -> None:
        self.rows += rows
        if self.visible:
            elapsed = time.perf_counter() - self.started
            rate = self.rows / elapsed if elapsed else 0.0
            self.stream.write(f"\r{self.label}: {self.rows:,} rows written, {elapsed:.0f} s, {rate:,.0f} rows/s ")
            self.stream.flush()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.visible and self.rows:
            self.stream.write("\n")
