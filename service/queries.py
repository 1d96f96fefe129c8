"""Named Cypher queries, one per file in cypher/, read once at start-up.

Each file starts with `// name: <file stem>` and a one-line `// description`, as in aiosql.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from service.config import PROJECT_ROOT

CYPHER_DIR = PROJECT_ROOT / "cypher"
STATEMENT_END = re.compile(r";[ \t]*$", re.MULTILINE)
HEADER = re.compile(r"\A// name: (?P<name>[a-z_]+)\n// (?P<description>.+)\n")


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    text: str

    def statements(self) -> list[str]:
        """The `;`-separated statements of a multi-statement file (the schema)."""
        return [part.strip() for part in STATEMENT_END.split(self.text) if _has_code(part)]


def _has_code(part: str) -> bool:
    return any(line.strip() and not line.strip().startswith("//") for line in part.splitlines())


def load_query(path: Path) -> Query:
    text = path.read_text()
    header = HEADER.match(text)
    if not header or header["name"] != path.stem:
        raise ValueError(f"{path} must start with '// name: {path.stem}' and a '// description' line")
    return Query(header["name"], header["description"], text)


@cache
def queries() -> dict[str, Query]:
    return {path.stem: load_query(path) for path in sorted(CYPHER_DIR.glob("*.cypher"))}


def cypher(name: str) -> str:
    return queries()[name].text
