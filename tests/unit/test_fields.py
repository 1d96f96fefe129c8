"""The parsers of one import value each (service/ingest/fields.py) and the shared text checks (service/text.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from service.ingest import fields
from service.text import normalised_email, plain_text, valid_unicode


@pytest.mark.parametrize(("value", "expected"), [
    (" Jane.Doe@Example.COM ", "jane.doe@example.com"), ("a@b.c", "a@b.c"),
    ("x+tag@sub.example.org", "x+tag@sub.example.org"),
])
def test_an_email_is_trimmed_and_lower_cased(value: str, expected: str) -> None:
    assert fields.email(value) == normalised_email(value) == expected


@pytest.mark.parametrize("value", [
    "", "jane", "jane@example", "a b@c.d", "a@@b.c", "@b.c", "a@b.c" + "x" * 320, 5, None,
])
def test_what_is_not_an_email_is_refused(value: Any) -> None:
    with pytest.raises(ValueError):
        fields.email(value)


@pytest.mark.parametrize(("value", "message"), [
    ("a\x00b", "contains a NUL character"),
    ("a\ufeffb", "contains a byte-order mark"),
    ("a\ud800b", "is not valid Unicode text"),
    (True, "is not text"),
    ([1], "is not text"),
    (None, "is not text"),
])
def test_a_value_no_text_may_hold_is_refused_with_the_reason(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plain_text(value)
    with pytest.raises(ValueError, match=message):
        fields.text(value)


def test_text_and_keys_are_trimmed_and_bounded() -> None:
    assert fields.text("  hello ") == "hello" and fields.text(12) == "12" and fields.key(" 003A ") == "003A"
    assert valid_unicode("ok \u00e9") and not valid_unicode("\udfff")
    assert fields.text("x" * fields.MAX_TEXT) == "x" * fields.MAX_TEXT
    with pytest.raises(ValueError, match=f"at most {fields.MAX_TEXT} characters"):
        fields.text("x" * (fields.MAX_TEXT + 1))
    with pytest.raises(ValueError, match=f"at most {fields.MAX_KEY} characters"):
        fields.key("k" * (fields.MAX_KEY + 1))


@pytest.mark.parametrize(("value", "expected"), [("12.5", 12.5), (" 0 ", 0.0), (7, 7.0), ("1e3", 1000.0)])
def test_amounts(value: Any, expected: float) -> None:
    assert fields.amount(value) == expected


@pytest.mark.parametrize(("value", "message"), [
    ("-1", "is negative"), ("abc", "is not a number"), (True, "is not a number"), ("nan", "is not a finite number"),
    ("1e400", "is not a finite number"), (10**400, "not finite"),
])
def test_what_is_not_an_amount_is_refused(value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fields.amount(value)


def test_counts_are_whole_and_fit_neo4j() -> None:
    assert fields.count("42") == 42 and fields.count(3.0) == 3
    for wrong in ("1.5", "-2", str(2**64)):
        with pytest.raises(ValueError):
            fields.count(wrong)


@pytest.mark.parametrize(("value", "expected"), [
    (True, True), ("true", True), (" YES ", True), ("1", True), ("y", True),
    (False, False), ("False", False), ("no", False), ("0", False), ("N", False),
])
def test_booleans(value: Any, expected: bool) -> None:
    assert fields.boolean(value) is expected


def test_booleans_currencies_and_stages_refuse_other_words() -> None:
    assert fields.currency(" usd ") == "USD" and fields.stage("Closed Won") == fields.WON_STAGE
    for parse, wrong in ((fields.boolean, "maybe"), (fields.currency, "US"), (fields.currency, "EURO"),
                         (fields.stage, "closed won"), (fields.stage, "Won")):
        with pytest.raises(ValueError):
            parse(wrong)


def test_dates_and_moments() -> None:
    assert fields.iso_date(" 2026-02-28 ") == date(2026, 2, 28)
    assert fields.iso_date(datetime(2026, 2, 28, 23, 0)) == date(2026, 2, 28)
    with pytest.raises(ValueError, match="is not an ISO date"):
        fields.iso_date("2026-02-30")
    assert fields.iso_datetime("2026-11-01T10:00:00") == datetime(2026, 11, 1, 10, tzinfo=UTC)
    assert fields.iso_datetime("2026-11-01T10:00:00Z").tzinfo == UTC
    plus_two = fields.iso_datetime("2026-11-01T10:00:00+02:00")
    assert plus_two.utcoffset() == timedelta(hours=2)
    with pytest.raises(ValueError, match="is not an ISO 8601 date-time"):
        fields.iso_datetime("yesterday")
    with pytest.raises(ValueError, match="is out of range"):
        fields.iso_datetime("0001-01-01T00:00:00+05:00")


def test_urls_are_absolute_or_a_path() -> None:
    assert fields.url(" https://x.example/a ") == "https://x.example/a" and fields.url("/pricing") == "/pricing"
    with pytest.raises(ValueError, match="is not a URL"):
        fields.url("ftp://x.example")


def test_blank_is_none_or_only_spaces() -> None:
    assert fields.is_blank(None) and fields.is_blank("  ") and not fields.is_blank(0) and not fields.is_blank(" a ")
