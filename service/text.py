"""Checks on text every entry point shares, and the one form of an email address the graph keys on.

The lowest module of the service: it imports nothing of it, so imports, erasure, segments and the
API can all use it without importing each other.
"""

from __future__ import annotations

import re
from typing import Any

# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the sources' job.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL = 320
BOM = "\ufeff"  # a byte-order mark inside a value: two exports joined into one file


def valid_unicode(text: str) -> bool:
    """False for a string no UTF-8 can hold (a lone surrogate, U+D800 to U+DFFF): JSON's "\\ud800"
    escapes decode to such strings, and the Neo4j driver cannot send them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def plain_text(value: Any) -> str:
    """A text, number or string value as trimmed text; ValueError if it is none, or holds what no
    value may hold (NUL, a byte-order mark, a lone surrogate)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"{value!r} is not text")
    text = str(value)
    if "\x00" in text:
        raise ValueError("contains a NUL character")
    if BOM in text:
        raise ValueError("contains a byte-order mark (U+FEFF); was a second file appended to this one?")
    if not valid_unicode(text):
        raise ValueError("is not valid Unicode text (it holds a lone surrogate, U+D800 to U+DFFF)")
    return text.strip()


def normalised_email(value: Any) -> str:
    """The email as the graph keys a person (trimmed, lower-cased); ValueError if not an email."""
    normalised = plain_text(value).lower()
    if len(normalised) > MAX_EMAIL or not EMAIL.match(normalised):
        raise ValueError(f"{value!r} is not an email address")
    return normalised
