"""How long the Neo4j driver waits before giving up; the settings (service.config) may change each."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DriverTimeouts:
    """How long the driver waits for Neo4j before giving up (docs/reliability.md).

    connect_seconds: to open one connection (TCP and Bolt handshake), `connection_timeout`;
    acquire_seconds: for a connection from the pool, opening it included, `connection_acquisition_timeout`;
    retry_seconds: how long a managed transaction is retried on transient errors, `max_transaction_retry_time`
    (the first retry comes after about 1 s, then 2, 4, ... s).
    """

    connect_seconds: float = 5.0
    acquire_seconds: float = 10.0
    retry_seconds: float = 30.0  # the driver's own default: right for imports, which may ride over a restart


# The service answers requests: it gives up sooner and lets the client (or the live loop) try again.
SERVICE_DRIVER = DriverTimeouts(retry_seconds=2.0)


# The warm-up of Neo4j's plan cache (service.warmup): at most this long before /readyz says ready
# anyway, and how often the service looks whether Neo4j went away (to warm up again once it is back).
WARMUP_SECONDS = 120.0
WARMUP_CHECK_SECONDS = 2.0
