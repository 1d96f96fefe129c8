"""The hashes a suppression is kept as: never the email or the source ids themselves.

SHA-256 with a fixed domain prefix (no secret pepper; docs/security.md says why). The prefix
keeps these hashes apart from the plain SHA-256 of an email that LinkedIn files hold, so the
suppression list cannot be joined to an old LinkedIn export by equality.
"""

from __future__ import annotations

import hashlib

EMAIL_DOMAIN = b"accountgraph/suppression/email/v1\x00"
ID_DOMAIN = b"accountgraph/suppression/id/v1\x00"
SHOWN = 12  # hex digits of a hash shown in answers and logs


def email_hash(normalised: str) -> str:
    return hashlib.sha256(EMAIL_DOMAIN + normalised.encode("utf-8")).hexdigest()


def id_hash(source: str, source_key: str) -> str:
    """A source's id of a person: an old export's rows name the person by it, not by email."""
    return hashlib.sha256(ID_DOMAIN + source.encode("utf-8") + b"\x00" + source_key.encode("utf-8")).hexdigest()


def shown(digest: str) -> str:
    return digest[:SHOWN]
