"""Settings from the environment (and an optional .env file); secrets stay SecretStr."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.limits import ApiLimits, GroupWindow, Retention, RetryPolicy
from service.logs import LogFormat
from service.timeouts import SERVICE_DRIVER, WARMUP_CHECK_SECONDS, WARMUP_SECONDS, DriverTimeouts

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # An external Neo4j; when unset, Docker or the local server is used (see service.neo4j_server).
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = SecretStr("accountgraph")
    neo4j_database: str = "neo4j"

    # The local Neo4j server assembled from Maven Central.
    neo4j_home: Path = PROJECT_ROOT / ".cache" / "neo4j"
    neo4j_bolt_port: int = 7687
    neo4j_http_port: int = 7474
    neo4j_heap: str = "4g"
    neo4j_pagecache: str = "4g"

    # The live loop: how often it looks for marked people without being woken, and sweeps time windows.
    live_poll_seconds: float = 1.0
    live_sweep_seconds: float = 60.0
    # Group commit (docs/realtime.md): web visits of concurrent requests (POST /events, recordWebVisits)
    # are written in one transaction; the first request waits this long for others, and a group holds
    # at most this many events. Each request is answered once its transaction has committed.
    group_commit_window_ms: float = Field(1000 * GroupWindow.seconds, ge=0)
    group_commit_max_events: int = Field(GroupWindow.max_rows, gt=0)
    # How far in the future a web visit may be stamped and still be accepted (the sender's clock may
    # run ahead); it counts in audiences once its time has come.
    clock_skew_seconds: float = Field(300.0, ge=0)
    # Retention (docs/scaling.md): evaluations (the segments' history and the change feed), web visits
    # and delivered webhook deliveries older than this many days are removed, by one process at a
    # time, checked this often. 0 keeps them for ever.
    evaluation_retention_days: float = Field(Retention.evaluation_days, ge=0)
    visit_retention_days: float = Field(Retention.visit_days, ge=0)
    delivery_retention_days: float = Field(30.0, ge=0)  # delivered webhook deliveries (the outbox)
    retention_check_seconds: float = Field(Retention.check_seconds, gt=0)

    # The roles of a company's buying group (service/segments/buying_group.py), comma-separated.
    buying_group_roles: str = "Decision Maker,Economic Buyer,Technical Buyer,Champion,Influencer"

    # Webhooks to private, loopback or link-local addresses (the service's own network, cloud
    # metadata) are refused unless this is true (service/activation/addresses.py).
    webhook_private_addresses: bool = False
    # The outbox of live webhook deliveries (service/realtime/outbox.py): tries of a delivery before it
    # is dead-lettered, the wait before the first retry (doubled at each one, up to the most), and how
    # long one try waits for the receiver's answer.
    webhook_max_attempts: int = Field(10, gt=0)
    webhook_retry_seconds: float = Field(5.0, ge=0)
    webhook_retry_max_seconds: float = Field(900.0, ge=0)
    webhook_timeout_seconds: float = Field(10.0, gt=0)

    # Limits of the API (docs/security.md): GraphQL documents, request bodies, and the time any one
    # Neo4j transaction of the service may take before Neo4j stops it.
    graphql_max_depth: int = Field(ApiLimits.max_depth, gt=0)
    graphql_max_aliases: int = Field(ApiLimits.max_aliases, ge=0)
    graphql_max_tokens: int = Field(ApiLimits.max_tokens, gt=0)
    graphql_introspection: bool = ApiLimits.introspection  # GRAPHQL_INTROSPECTION=false in production
    max_body_bytes: int = Field(ApiLimits.max_body_bytes, gt=0)
    neo4j_query_timeout_seconds: float = Field(30.0, gt=0)
    rate_limit_per_second: float = Field(ApiLimits.rate_per_second, ge=0)  # per API key and process; 0: off
    rate_limit_burst: int = Field(ApiLimits.rate_burst, gt=0)

    # How long the service waits for Neo4j (docs/reliability.md): to open a connection, to get one
    # from the pool, and for retries of a transaction on transient errors (imports by the CLI retry
    # for 30 s). When Neo4j is down a request is answered 503 within about retry + 1 s.
    neo4j_connect_timeout_seconds: float = Field(SERVICE_DRIVER.connect_seconds, gt=0)
    neo4j_acquire_timeout_seconds: float = Field(SERVICE_DRIVER.acquire_seconds, gt=0)
    neo4j_retry_seconds: float = Field(SERVICE_DRIVER.retry_seconds, ge=0)

    # The warm-up of Neo4j's plan cache before /readyz says ready (docs/reliability.md): at most this
    # long, and again after Neo4j was out of reach (looked for every WARMUP_CHECK_SECONDS).
    warmup_seconds: float = Field(WARMUP_SECONDS, gt=0)
    warmup_check_seconds: float = Field(WARMUP_CHECK_SECONDS, gt=0)

    # Where `accountgraph run` (the demo) keeps its development API key, readable by the owner only.
    dev_key_file: Path = PROJECT_ROOT / ".cache" / "dev-api-key"

    # Operations (docs/operations.md): the log lines' format, `json` or `text` (unset: json for
    # `accountgraph serve`, text for `accountgraph run`, the demo in a terminal), their level, and the
    # token a scrape of /metrics must send as `Authorization: Bearer <token>` (unset: /metrics is open).
    log_format: LogFormat | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics_token: SecretStr | None = None

    host: str = "127.0.0.1"
    port: int = 8000
    seed_dir: Path = PROJECT_ROOT / "seed" / "townsend"
    # Where activations to file destinations (Marketo lists, LinkedIn audiences) are written.
    exports_dir: Path = PROJECT_ROOT / "exports"

    def limits(self) -> ApiLimits:
        return ApiLimits(max_depth=self.graphql_max_depth, max_aliases=self.graphql_max_aliases,
                         max_tokens=self.graphql_max_tokens, introspection=self.graphql_introspection,
                         max_body_bytes=self.max_body_bytes, query_timeout_seconds=self.neo4j_query_timeout_seconds,
                         rate_per_second=self.rate_limit_per_second, rate_burst=self.rate_limit_burst)

    def retention(self) -> Retention:
        return Retention(evaluation_days=self.evaluation_retention_days, visit_days=self.visit_retention_days,
                         delivery_days=self.delivery_retention_days, check_seconds=self.retention_check_seconds)

    def delivery(self) -> RetryPolicy:
        return RetryPolicy(attempts=self.webhook_max_attempts, first_delay=self.webhook_retry_seconds,
                           timeout=self.webhook_timeout_seconds, max_delay=self.webhook_retry_max_seconds)

    def group_window(self) -> GroupWindow:
        return GroupWindow(seconds=self.group_commit_window_ms / 1000, max_rows=self.group_commit_max_events)

    def driver_timeouts(self) -> DriverTimeouts:
        """The service's; commands that import keep the driver's 30 s of retries (DriverTimeouts())."""
        return DriverTimeouts(connect_seconds=self.neo4j_connect_timeout_seconds,
                              acquire_seconds=self.neo4j_acquire_timeout_seconds,
                              retry_seconds=self.neo4j_retry_seconds)


@lru_cache
def get_settings() -> Settings:
    return Settings()
