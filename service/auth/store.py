"""API keys in Neo4j: create, list and revoke them, and check the key a request presents."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.auth.keys import ApiKey, Scope, generate, hash_secret, parse, secret_matches
from service.database import Graph
from service.errors import AccountGraphError, ErrorCode

MAX_NAME = 200
TOUCH_EVERY_SECONDS = 60.0

MISSING = "an API key is needed: send it as 'Authorization: Bearer <key>' (see docs/security.md)"
INVALID = "the API key is not valid"
REVOKED = "the API key was revoked"


class KeyStoreError(AccountGraphError, ValueError):
    """A key command that cannot be done (an unknown id, a bad name or scope)."""

    default_code = ErrorCode.VALIDATION_FAILED


class Unauthenticated(AccountGraphError):
    """No usable key: the request is refused before anything runs. The message never holds the key."""

    default_code = ErrorCode.UNAUTHENTICATED


@dataclass(frozen=True)
class KeyRecord:
    """A stored key as listed: everything but its hash."""

    id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> KeyRecord:
        return cls(id=row["id"], name=row["name"], scopes=tuple(row["scopes"]), created_at=_native(row["createdAt"]),
                   revoked_at=_native(row.get("revokedAt")), last_used_at=_native(row.get("lastUsedAt")))


def _native(value: Any) -> Any:
    return value.to_native() if value is not None else None


def _scopes(names: Iterable[str]) -> frozenset[Scope]:
    known = {scope.value for scope in Scope}
    return frozenset(Scope(name) for name in names if name in known)


async def create(graph: Graph, name: str, scopes: Iterable[Scope]) -> tuple[KeyRecord, str]:
    """Store a new key; returns it and its text, which exists nowhere else from then on."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise KeyStoreError(f"a key name must have 1 to {MAX_NAME} characters")
    ordered = sorted({Scope(s) for s in scopes})
    if not ordered:
        raise KeyStoreError("a key needs at least one scope: read, write or admin")
    new = generate()
    rows = await graph.write("api_key_create", id=new.id, name=name, scopes=[s.value for s in ordered],
                             hash=hash_secret(new.secret))
    return KeyRecord.from_row(rows[0]["key"]), new.text


async def all_keys(graph: Graph) -> list[KeyRecord]:
    return [KeyRecord.from_row(row["key"]) for row in await graph.read("api_keys_all")]


async def revoke(graph: Graph, key_id: str) -> KeyRecord:
    rows = await graph.write("api_key_revoke", id=key_id)
    if not rows:
        raise KeyStoreError(f"no API key with id {key_id!r}", code=ErrorCode.NOT_FOUND)
    return KeyRecord.from_row(rows[0]["key"])


class KeyChecker:
    """Checks the keys requests present, one lookup by id each (so a revocation counts at once)."""

    def __init__(self, graph: Graph, touch_every: float = TOUCH_EVERY_SECONDS) -> None:
        self.graph = graph
        self.touch_every = touch_every
        self._touched: dict[str, float] = {}

    async def authenticate(self, presented: str | None) -> ApiKey:
        if not presented:
            raise Unauthenticated(MISSING)
        parsed = parse(presented)
        if parsed is None:
            raise Unauthenticated(INVALID)
        rows = await self.graph.read("api_key_by_id", id=parsed.id)
        # An unknown id is answered without a comparison: ids are not secret (`key list` shows
        # them); the secret is, and it is only ever compared in constant time.
        if not rows or not secret_matches(parsed.secret, rows[0]["key"]["hash"]):
            raise Unauthenticated(INVALID)
        stored = rows[0]["key"]
        if stored["revokedAt"] is not None:
            raise Unauthenticated(REVOKED)
        await self._touch(parsed.id)
        return ApiKey(id=stored["id"], name=stored["name"], scopes=_scopes(stored["scopes"]))

    async def _touch(self, key_id: str) -> None:
        """Record lastUsedAt, at most once per `touch_every` seconds per key, not a write per request."""
        now = time.monotonic()
        if now - self._touched.get(key_id, -self.touch_every) >= self.touch_every:
            self._touched[key_id] = now
            await self.graph.write("api_key_used", id=key_id)
