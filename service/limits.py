"""The limits of the API, with their defaults; the settings (service.config) may change each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiLimits:
    max_depth: int = 12            # nesting of fields in a GraphQL operation (introspection not counted)
    max_aliases: int = 30          # aliased fields in a GraphQL document: each runs its resolver again
    max_tokens: int = 10_000       # lexical tokens of a GraphQL document, enforced while parsing
    introspection: bool = True     # the schema may be introspected (GraphiQL needs it; off in production)
    max_body_bytes: int = 1 << 20  # body of POST /graphql and POST /events
    query_timeout_seconds: float | None = 30.0  # every Neo4j transaction of the service
    # Requests per second per API key and process (service.auth.rate), and how many may come at once
    # above that; 0 switches the limit off. High enough that only a runaway client meets it.
    rate_per_second: float = 1000.0
    rate_burst: int = 2000


@dataclass(frozen=True)
class Retention:
    """How long evaluations (the segments' history and the change feed), web visits and delivered
    webhook deliveries are kept, in days (0: for ever), and how often the job that removes older ones
    runs (service.realtime.retention)."""

    evaluation_days: float = 0.0
    visit_days: float = 0.0
    delivery_days: float = 0.0
    check_seconds: float = 3600.0


@dataclass(frozen=True)
class GroupWindow:
    """Group commit of web visits (service.ingest.group_commit): how long the first request of a group
    waits for others, and how many events a group holds at most."""

    seconds: float = 0.005
    max_rows: int = 500


@dataclass(frozen=True)
class RetryPolicy:
    """Tries of one batch: `attempts` in all, the n-th retry after first_delay * factor ** (n - 1)
    seconds (at most max_delay), each waiting `timeout` seconds for the answer."""

    attempts: int = 5
    first_delay: float = 0.5
    factor: float = 2.0
    timeout: float = 10.0
    max_delay: float = 900.0

    def delay(self, failed_attempts: int) -> float:
        """Seconds to wait before the next try, after this many failed ones."""
        return min(self.max_delay, self.first_delay * self.factor ** max(0, failed_attempts - 1))
