"""API keys in Neo4j: create, list and revoke them, and check the key a request presents."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from service.auth.keys import ApiKey, Scope, generate, hash_secret, parse, secret_matches
from service.auth.lookups import KEY_CACHE_SECONDS, KeyLookups
from service.database import Graph
from service.errors import AccountGraphError, ErrorCode
from service.queries import Q

MAX_NAME = 200
TOUCH_EVERY_SECONDS = 60.0

MISSING = "an API key is needed: send it as 'Authorization: Bearer <key>' (see docs/security.md)"
INVALID = "the API key is not valid"
REVOKED = "the API key was revoked"
EXPIRED = "the API key has expired"
MAX_DAYS = 3660  # the longest a key may be created for


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
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> KeyRecord:
        return cls(id=row["id"], name=row["name"], scopes=tuple(row["scopes"]), created_at=_native(row["createdAt"]),
                   expires_at=_native(row.get("expiresAt")), revoked_at=_native(row.get("revokedAt")),
                   last_used_at=_native(row.get("lastUsedAt")))


def _native(value: Any) -> Any:
    return value.to_native() if value is not None else None


def _scopes(names: Iterable[str]) -> frozenset[Scope]:
    known = {scope.value for scope in Scope}
    return frozenset(Scope(name) for name in names if name in known)


async def create(graph: Graph, name: str, scopes: Iterable[Scope],
                 expires_in_days: float | None = None) -> tuple[KeyRecord, str]:
    """Store a new key, valid for `expires_in_days` or until revoked; returns it and its text, which
    exists nowhere else from then on."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise KeyStoreError(f"a key name must have 1 to {MAX_NAME} characters")
    ordered = sorted({Scope(s) for s in scopes})
    if not ordered:
        raise KeyStoreError("a key needs at least one scope: read, write or admin")
    if expires_in_days is not None and not 0 < expires_in_days <= MAX_DAYS:
        raise KeyStoreError(f"a key expires in more than 0 and at most {MAX_DAYS} days")
    expires_at = None if expires_in_days is None else datetime.now(UTC) + timedelta(days=expires_in_days)
    new = generate()
    rows = await graph.run(Q.API_KEY_CREATE, id=new.id, name=name, scopes=[s.value for s in ordered],
                           hash=hash_secret(new.secret), expiresAt=expires_at)
    return KeyRecord.from_row(rows[0]["key"]), new.text


async def all_keys(graph: Graph) -> list[KeyRecord]:
    return [KeyRecord.from_row(row["key"]) for row in await graph.run(Q.API_KEYS_ALL)]


async def revoke(graph: Graph, key_id: str) -> KeyRecord:
    rows = await graph.run(Q.API_KEY_REVOKE, id=key_id)
    if not rows:
        raise KeyStoreError(f"no API key with id {key_id!r}", code=ErrorCode.NOT_FOUND)
    return KeyRecord.from_row(rows[0]["key"])


class KeyChecker:
    """Checks the keys requests present against the stored key, looked up by id and kept for at
    most `max_age` seconds (service.auth.lookups), so a revocation anywhere counts within that."""

    def __init__(self, graph: Graph, touch_every: float = TOUCH_EVERY_SECONDS,
                 max_age: float = KEY_CACHE_SECONDS) -> None:
        self.graph = graph
        self.touch_every = touch_every
        self.max_age = max_age
        self._lookups = KeyLookups(self._stored)
        self._touched: dict[str, float] = {}

    async def authenticate(self, presented: str | None, fresh_since: float | None = None) -> ApiKey:
        """The key, if valid, not expired and not revoked as of a lookup sent at or after `fresh_since`
        (time.monotonic(); by default `max_age` seconds ago)."""
        if not presented:
            raise Unauthenticated(MISSING)
        parsed = parse(presented)
        if parsed is None:
            raise Unauthenticated(INVALID)
        if fresh_since is None:
            fresh_since = time.monotonic() - self.max_age
        stored = await self._lookups.get(parsed.id, fresh_since)
        # An unknown id is answered without a comparison: ids are not secret (`key list` shows
        # them); the secret is, and it is only ever compared in constant time.
        if stored is None or not secret_matches(parsed.secret, stored["hash"]):
            raise Unauthenticated(INVALID)
        if stored["revokedAt"] is not None:
            raise Unauthenticated(REVOKED)
        if stored.get("expiresAt") is not None and stored["expiresAt"].to_native() <= datetime.now(UTC):
            raise Unauthenticated(EXPIRED)
        await self._touch(parsed.id)
        return ApiKey(id=stored["id"], name=stored["name"], scopes=_scopes(stored["scopes"]))

    def forget(self, key_id: str) -> None:
        """This process revoked the key: its next request looks it up again, whatever the cache holds."""
        self._lookups.forget(key_id)

    async def _stored(self, key_id: str) -> dict[str, Any] | None:
        rows = await self.graph.run(Q.API_KEY_BY_ID, id=key_id)
        return rows[0]["key"] if rows else None

    async def _touch(self, key_id: str) -> None:
        """Record lastUsedAt, at most once per `touch_every` seconds per key, not a write per request."""
        now = time.monotonic()
        if now - self._touched.get(key_id, -self.touch_every) >= self.touch_every:
            self._touched[key_id] = now
            await self.graph.run(Q.API_KEY_USED, id=key_id)
