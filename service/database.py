"""The Neo4j driver: one async driver per process, every call names its database and routing.

Every transaction is a managed one (the driver retries it on transient errors: a deadlock, a lost
connection, a leader switch) except the schema statements and the readiness ping. Failures to reach
Neo4j become DatabaseUnavailable, a transaction stopped for taking too long QueryTimeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from neo4j import READ_ACCESS, AsyncDriver, AsyncGraphDatabase, Query, RoutingControl, unit_of_work
from neo4j.exceptions import ClientError, ConnectionPoolError, ServiceUnavailable, SessionExpired, TransientError
from pydantic import SecretStr

from service.errors import AccountGraphError, ErrorCode
from service.queries import cypher, queries
from service.timeouts import SERVICE_DRIVER, DriverTimeouts

__all__ = ["SERVICE_DRIVER", "DatabaseUnavailable", "DriverTimeouts", "Graph", "Neo4jConnection", "QueryTimeout"]

T = TypeVar("T")

# Neo4j's codes for a transaction stopped by the timeout the client gave, or by the server's own.
TIMEOUT_CODES = frozenset({
    "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
    "Neo.ClientError.Transaction.TransactionTimedOut",
})


class QueryTimeout(AccountGraphError, RuntimeError):
    """A transaction ran past its timeout and Neo4j stopped it (and rolled it back)."""

    default_code = ErrorCode.QUERY_TIMEOUT

    def __init__(self, seconds: float | None) -> None:
        limit = f"{seconds:g} s" if seconds else "the server's transaction timeout"
        super().__init__(f"the query took longer than {limit} and was stopped")
        self.seconds = seconds


class DatabaseUnavailable(AccountGraphError, RuntimeError):
    """Neo4j could not be reached (down, restarting, or no connection free) within the driver's
    time limits, retries included. GraphQL answers it with its code, HTTP with 503."""

    default_code = ErrorCode.DATABASE_UNAVAILABLE

    def __init__(self) -> None:
        super().__init__("the database (Neo4j) is unavailable; try again shortly")


# Neo4j answers but its database is not open yet (starting, recovering after a crash).
STARTING_CODE = "Neo.TransientError.General.DatabaseUnavailable"
# What the driver raises when Neo4j cannot be reached, after its retries (IncompleteCommit, a
# connection lost while committing, is a ServiceUnavailable: the commit may or may not have happened).
UNREACHABLE = (ServiceUnavailable, SessionExpired, ConnectionPoolError, OSError)


class InvalidText(AccountGraphError, ValueError):
    """A parameter the driver cannot send: text with a lone surrogate (a JSON "\\ud800" escape)."""

    default_code = ErrorCode.VALIDATION_FAILED

    def __init__(self) -> None:
        super().__init__("a value is not valid Unicode text (it holds a lone surrogate, U+D800 to U+DFFF)")


@dataclass(frozen=True)
class Neo4jConnection:
    uri: str
    user: str
    password: SecretStr
    database: str


class Graph:
    """Runs the named queries of cypher/ against one database.

    timeout_seconds: every transaction is stopped by Neo4j once it runs longer (the service sets
    NEO4J_QUERY_TIMEOUT_SECONDS); None leaves only the server's own timeout, as for bulk imports.
    """

    def __init__(self, connection: Neo4jConnection, timeout_seconds: float | None = None,
                 driver: DriverTimeouts = DriverTimeouts()) -> None:
        self.connection = connection
        self.database = connection.database
        self.timeout = timeout_seconds
        self.timeouts = driver
        self.driver: AsyncDriver = AsyncGraphDatabase.driver(
            connection.uri, auth=(connection.user, connection.password.get_secret_value()),
            # A rule may name a relationship type no import has created yet: that is not worth a warning.
            notifications_disabled_classifications=["UNRECOGNIZED"],
            connection_timeout=driver.connect_seconds,
            connection_acquisition_timeout=driver.acquire_seconds,
            max_transaction_retry_time=driver.retry_seconds,
        )

    async def close(self) -> None:
        await self.driver.close()

    async def read(self, query: str, **parameters: Any) -> list[dict[str, Any]]:
        return await self.read_text(cypher(query), parameters)

    async def write(self, query: str, **parameters: Any) -> list[dict[str, Any]]:
        return await self.write_text(cypher(query), parameters)

    async def read_text(self, text: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
        """Run Cypher built from a named template (see service.segments.compiler); values as parameters."""
        return await self._execute(text, parameters, RoutingControl.READ)

    async def write_text(self, text: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
        return await self._execute(text, parameters, RoutingControl.WRITE)

    async def write_work(self, work: Callable[..., Awaitable[T]], *arguments: Any) -> T:
        """Run work(tx, *arguments) in one managed write transaction (retried on transient errors)."""
        with self._errors():
            async with self.driver.session(database=self.database) as session:
                return await session.execute_write(unit_of_work(timeout=self.timeout)(work), *arguments)

    async def ping(self) -> None:
        """One attempt, not retried (a readiness probe must answer at once), bounded by connect_seconds
        even when Neo4j accepts connections but does not answer."""
        with self._errors():
            async with asyncio.timeout(self.timeouts.connect_seconds):
                async with self.driver.session(database=self.database, default_access_mode=READ_ACCESS) as session:
                    await (await session.run("RETURN 1")).consume()

    async def migrate(self) -> None:
        """Apply the constraints and indexes of cypher/schema.cypher; each is IF NOT EXISTS, so a
        migration cut short is completed by running it again (the service retries it until it works)."""
        with self._errors():
            async with self.driver.session(database=self.database) as session:
                for statement in queries()["schema"].statements():
                    await (await session.run(Query(statement, timeout=self.timeout))).consume()

    async def _execute(self, text: str, parameters: dict[str, Any], routing: RoutingControl) -> list[dict[str, Any]]:
        with self._errors():
            records, _, _ = await self.driver.execute_query(
                Query(text, timeout=self.timeout), parameters, database_=self.database, routing_=routing
            )
        return [record.data() for record in records]

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """A transaction Neo4j stopped for taking too long becomes a QueryTimeout saying so; Neo4j out
        of reach (after the driver's retries) a DatabaseUnavailable; text the driver cannot encode,
        an InvalidText (every entry point should refuse it before)."""
        try:
            yield
        except UnicodeEncodeError:
            raise InvalidText() from None
        except ClientError as error:
            if error.code in TIMEOUT_CODES:
                raise QueryTimeout(self.timeout) from None
            raise
        except TransientError as error:  # still failing once the driver's retries are spent
            if error.code == STARTING_CODE:
                raise DatabaseUnavailable() from error
            raise
        except UNREACHABLE as error:  # OSError includes the TimeoutError of the ping's own bound
            raise DatabaseUnavailable() from error
