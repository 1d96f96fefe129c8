"""Checks on text every entry point shares."""

from __future__ import annotations


def valid_unicode(text: str) -> bool:
    """False for a string no UTF-8 can hold (a lone surrogate, U+D800 to U+DFFF): JSON's "\\ud800"
    escapes decode to such strings, and the Neo4j driver cannot send them."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
