"""Rate limits per key (service.auth.rate): a token bucket per key, on a clock the test moves."""

from __future__ import annotations

import pytest

from service.auth.rate import RateLimits
from service.config import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_key_gets_its_burst_then_the_rate_and_is_told_how_long_to_wait() -> None:
    clock = Clock()
    limits = RateLimits(per_second=2, burst=3, clock=clock)
    assert [limits.take("a") for _ in range(3)] == [0, 0, 0]
    assert limits.take("a") == pytest.approx(0.5)  # one token comes every half second
    assert limits.take("b") == 0  # each key has its own bucket
    clock.now += 0.5
    assert limits.take("a") == 0 and limits.take("a") == pytest.approx(0.5)
    clock.now += 60  # refilled to the burst, no further
    assert [limits.take("a") for _ in range(4)][-1] == pytest.approx(0.5)


def test_a_refused_request_is_not_counted_against_the_next() -> None:
    clock = Clock()
    limits = RateLimits(per_second=1, burst=1, clock=clock)
    assert limits.take("a") == 0
    for _ in range(5):
        assert limits.take("a") == pytest.approx(1.0)
    clock.now += 1
    assert limits.take("a") == 0


def test_zero_switches_the_limit_off_and_the_settings_carry_it(monkeypatch: pytest.MonkeyPatch) -> None:
    off = RateLimits(per_second=0, burst=1)
    assert all(off.take("a") == 0 for _ in range(10_000))
    monkeypatch.setenv("RATE_LIMIT_PER_SECOND", "5")
    monkeypatch.setenv("RATE_LIMIT_BURST", "7")
    assert (Settings().limits().rate_per_second, Settings().limits().rate_burst) == (5, 7)
