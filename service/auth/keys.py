"""API keys: their format, scopes and hashing. No I/O here (service.auth.store keeps them).

A key reads `ag_<id>_<secret>`: the id (12 hex digits) names the stored key, so a request is
checked with one lookup by id; the secret (32 random bytes, base64url) is only ever kept as its
SHA-256 and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "ag"
KEY_FORMAT = re.compile(r"\Aag_(?P<id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})\Z")


class Scope(StrEnum):
    """What a key may do. A key holds an explicit set; only `admin` implies the others."""

    READ = "read"     # queries and subscriptions: people, accounts, companies, segments, previews
    WRITE = "write"   # ingestion: the upsert mutations and POST /events
    ADMIN = "admin"   # segments, destinations, activation, API keys; and everything read and write allow


ALL_SCOPES: frozenset[Scope] = frozenset(Scope)


@dataclass(frozen=True)
class ApiKey:
    """The key a request was authenticated with (never its secret)."""

    id: str
    name: str
    scopes: frozenset[Scope]

    def grants(self, scope: Scope) -> bool:
        return scope in self.scopes or Scope.ADMIN in self.scopes


@dataclass(frozen=True)
class NewKey:
    id: str
    secret: str

    @property
    def text(self) -> str:
        """The key as the client sends it: shown once at creation, never stored."""
        return f"{PREFIX}_{self.id}_{self.secret}"


def generate() -> NewKey:
    return NewKey(id=secrets.token_hex(6), secret=secrets.token_urlsafe(32))


def parse(text: str) -> NewKey | None:
    """The id and secret of a key in the right format; None for anything else."""
    match = KEY_FORMAT.match(text.strip())
    return NewKey(match["id"], match["secret"]) if match else None


def hash_secret(secret: str) -> str:
    # A fast hash is the right one here: the secret is 256 bits from `secrets`, so no guessing or
    # dictionary attack on a leaked hash can succeed however fast SHA-256 is. Slow password hashes
    # (bcrypt, scrypt, Argon2) exist for low-entropy human passwords, and would cost every API
    # request tens of milliseconds of CPU for no gain.
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Constant-time comparison, so response times say nothing about how much of a guess was right."""
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def parse_scopes(names: list[str]) -> frozenset[Scope]:
    unknown = sorted(set(names) - {s.value for s in Scope})
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}; the scopes are {', '.join(s.value for s in Scope)}")
    if not names:
        raise ValueError("a key needs at least one scope")
    return frozenset(Scope(name) for name in names)
