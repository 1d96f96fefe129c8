"""Rate limits per API key: a token bucket per key in this process, `burst` requests deep and
refilled at `per_second`. A request over the limit is answered 429 with Retry-After (service.auth.http).

Per process, by design: a shared count would cost every request a write to Neo4j. With N processes
behind a balancer a key may send up to N times the limit; a global limit belongs in the proxy."""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimits:
    def __init__(self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.burst = max(burst, 1)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens left, when counted)

    def take(self, key_id: str) -> float:
        """0 when the key may make a request now (and it is counted); else the seconds until it may."""
        if self.per_second <= 0:
            return 0.0
        now = self._clock()
        tokens, counted = self._buckets.get(key_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - counted) * self.per_second)
        if tokens >= 1:
            self._buckets[key_id] = (tokens - 1, now)
            return 0.0
        self._buckets[key_id] = (tokens, now)
        return (1 - tokens) / self.per_second
