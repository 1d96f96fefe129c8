"""The demo's API key: `accountgraph run` makes sure one exists and prints it, so the demo works
at once while nothing is open. Production serves with `accountgraph serve`, which creates none.

The key is stored hashed like any other; its text is kept in a file only the owner can read
(DEV_KEY_FILE, by default .cache/dev-api-key, which git ignores), since a hash cannot give it back.
"""

from __future__ import annotations

import os
from pathlib import Path

from service.auth import store
from service.auth.keys import ALL_SCOPES
from service.auth.store import KeyChecker, Unauthenticated
from service.database import Graph

DEV_KEY_NAME = "dev (accountgraph run)"


async def ensure_dev_key(graph: Graph, path: Path) -> str:
    """The key kept in `path` if this graph still accepts it; else a new one with every scope."""
    kept = _read(path)
    if kept:
        try:
            await KeyChecker(graph).authenticate(kept)
            return kept
        except Unauthenticated:
            pass  # revoked, or made for another database: replace it
    _, text = await store.create(graph, DEV_KEY_NAME, ALL_SCOPES)
    write_private(path, text)
    return text


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def write_private(path: Path, text: str) -> None:
    """Write `text` to a file readable and writable by its owner only (0600), replacing it whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # an older file of that name may have had wider permissions
        os.write(descriptor, (text + "\n").encode())
    finally:
        os.close(descriptor)
    os.replace(partial, path)
