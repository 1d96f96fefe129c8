"""URL patterns (`*` wildcards) compiled to regular expressions that cannot backtrack for ever.

The first two tests moved here from test_segments.py; the near miss against Neo4j stays there.
"""

from __future__ import annotations

import random
import re
import time

import pytest

from service.segments.compiler import glob_to_regex
from tests.helpers import NEAR_MISS_PATTERN, NEAR_MISS_URL


def backtracking_glob(pattern: str) -> str:
    """The obvious translation (each * as .*): correct, and exponential on a near miss."""
    return "^" + ".*".join(re.escape(part) for part in pattern.split("*")) + "$"


def test_url_patterns_match_what_the_obvious_regex_matches() -> None:
    generator = random.Random(7)
    for _ in range(20_000):
        pattern = "".join(generator.choice("ab*/") for _ in range(generator.randint(0, 7)))
        text = "".join(generator.choice("ab/") for _ in range(generator.randint(0, 9)))
        expected = re.match(backtracking_glob(pattern), text) is not None
        assert (re.match(glob_to_regex(pattern), text) is not None) == expected, (pattern, text)


def test_a_url_pattern_cannot_backtrack_for_ever() -> None:
    """Neo4j cannot stop a regular expression that runs (the transaction timeout does not reach
    it): the obvious translation takes about 16 s on this near miss in Python, and far longer on
    slightly longer URLs; the compiled pattern answers at once."""
    started = time.monotonic()
    assert re.match(glob_to_regex(NEAR_MISS_PATTERN), NEAR_MISS_URL) is None
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(("pattern", "expected"), [
    ("https://x.example/new", r"^https://x\.example/new$"),
    ("https://x.example/*", r"^https://x\.example/.*$"),
    ("*/pricing", r"^.*/pricing$"),
    ("*a*b", r"^(?>.*?a).*b$"),
    ("https://*.example/docs/*", r"^https://(?>.*?\.example/docs/).*$"),
    ("*", r"^.*$"),
    ("", r"^$"),
])
def test_a_pattern_compiles_to_an_anchored_expression_with_an_atomic_group_per_middle_part(
        pattern: str, expected: str) -> None:
    assert glob_to_regex(pattern) == expected


@pytest.mark.parametrize(("pattern", "url", "matches"), [
    ("https://x.example/new", "https://x.example/new", True),
    ("https://x.example/new", "https://x.example/new/", False),
    ("https://x.example/new", "https://xxexample/new", False),  # the dot is a dot, not any character
    ("https://x.example/*", "https://x.example/", True),
    ("https://x.example/*", "https://y.example/", False),
    ("https://*.example/docs/*", "https://www.example/docs/a/b", True),
    ("https://*.example/docs/*", "https://www.example/blog/docs", False),
    ("*a*b", "xxbxxaxxb", True),  # the `a` found first still leaves the last `b` to end the URL
    ("*a*b", "xxbxxbxxa", False),
])
def test_a_pattern_matches_the_urls_the_glob_does(pattern: str, url: str, matches: bool) -> None:
    assert (re.match(glob_to_regex(pattern), url) is not None) is matches


def test_regular_expression_syntax_in_a_pattern_is_literal() -> None:
    regex = glob_to_regex("https://x.example/a+b?(c)[d]{2}|e^$\\*")
    assert re.match(regex, "https://x.example/a+b?(c)[d]{2}|e^$\\anything")
    assert not re.match(regex, "https://x.example/aab(c)d")
