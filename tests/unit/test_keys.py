"""API keys: the `ag_<id>_<secret>` format, scopes, and the stored hash (service/auth/keys.py)."""

from __future__ import annotations

import hashlib

import pytest

from service.auth.keys import (
    ALL_SCOPES,
    ApiKey,
    NewKey,
    Scope,
    generate,
    hash_secret,
    parse,
    parse_scopes,
    secret_matches,
)

SECRET = "A" * 21 + "-" + "b" * 20 + "_"  # 43 base64url characters: 32 bytes


def test_a_new_key_reads_back_as_itself() -> None:
    key = generate()
    assert parse(key.text) == key and parse(f"  {key.text}\n") == key
    assert key.text.startswith(f"ag_{key.id}_") and len(key.id) == 12 and len(key.secret) == 43
    assert generate() != key


def test_a_key_parses_into_its_id_and_secret() -> None:
    assert parse(f"ag_0123456789ab_{SECRET}") == NewKey("0123456789ab", SECRET)


@pytest.mark.parametrize("text", [
    "", "nonsense", "Bearer", f"ag_0123456789AB_{SECRET}", f"ag_0123456789a_{SECRET}", f"xx_0123456789ab_{SECRET}",
    f"ag_0123456789ab_{SECRET[:-1]}", f"ag_0123456789ab_{SECRET}x", f"ag_0123456789ab_{SECRET[:-1]}=",
    "ag_000000000000_" + "x" * 42, "ag_" + "f" * 12 + "_short", f"ag_0123456789ab_{SECRET}\nag_0123456789ab_{SECRET}",
])
def test_anything_else_is_not_a_key(text: str) -> None:
    assert parse(text) is None


def test_only_the_hash_of_the_secret_is_kept_and_compared() -> None:
    stored = hash_secret(SECRET)
    assert stored == hashlib.sha256(SECRET.encode()).hexdigest() and SECRET not in stored
    assert secret_matches(SECRET, stored) and not secret_matches(SECRET[:-1] + "a", stored)


def test_scopes_parse_and_only_admin_implies_the_others() -> None:
    assert parse_scopes(["read", "write", "read"]) == frozenset({Scope.READ, Scope.WRITE})
    assert ALL_SCOPES == {Scope.READ, Scope.WRITE, Scope.ADMIN}
    with pytest.raises(ValueError, match="unknown scope 'root'"):
        parse_scopes(["read", "root"])
    with pytest.raises(ValueError, match="at least one scope"):
        parse_scopes([])
    reader = ApiKey("r", "reader", frozenset({Scope.READ}))
    admin = ApiKey("a", "admin", frozenset({Scope.ADMIN}))
    assert reader.grants(Scope.READ) and not reader.grants(Scope.WRITE) and not reader.grants(Scope.ADMIN)
    assert all(admin.grants(scope) for scope in Scope)
