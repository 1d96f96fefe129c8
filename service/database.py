"""The Neo4j driver: one async driver per process, every call names its database and routing.

Writes run in managed transactions (the driver retries them on transient errors: a deadlock, a lost
connection, a leader switch); reads in auto-commit ones, retried here the same way. Every session
shares the process's one bookmark manager, so a read sees every write the process made before it
(causal consistency, which matters on a cluster). Failures to reach Neo4j become DatabaseUnavailable,
a transaction stopped for taking too long QueryTimeout.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from neo4j import (
    READ_ACCESS,
    WRITE_ACCESS,
    AsyncDriver,
    AsyncGraphDatabase,
    AsyncManagedTransaction,
    AsyncSession,
    Query,
    Record,
    RoutingControl,
    unit_of_work,
)
from neo4j._data import RecordExporter
from neo4j.exceptions import (
    ClientError,
    ConnectionPoolError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)
from pydantic import SecretStr

from service.errors import AccountGraphError, ErrorCode
from service.metrics import NEO4J_FAILURES, NEO4J_SECONDS
from service.queries import CypherFile, Mode, Q, Rendered, catalogue, query_file
from service.timeouts import SERVICE_DRIVER, DriverTimeouts

__all__ = ["SERVICE_DRIVER", "DatabaseUnavailable", "DriverTimeouts", "Graph", "Neo4jConnection", "QueryModeError",
           "QueryTimeout", "Transaction"]

MIGRATIONS = (Q.RECORDS_KNOWN_IN,)  # data migrations, in order, after the schema
FIGURES_BATCH = 10_000  # companies given their figures per transaction by the migration
READ_RETRY_FIRST_DELAY = 0.1  # seconds before a read's first retry; doubled each time
T = TypeVar("T")
P = ParamSpec("P")
Row = dict[str, Any]
log = logging.getLogger("accountgraph.database")
_PLAIN = frozenset({str, int, float, bool, type(None)})
_EXPORT: Callable[[Any], Any] = RecordExporter().transform  # what Record.data() applies to each value
# Neo4j's code for a write attempted in a read transaction.
ACCESS_MODE_CODE = "Neo.ClientError.Statement.AccessMode"

# Neo4j's codes for a transaction stopped by the timeout the client gave, or by the server's own; the
# last is what a transaction gets when the timeout stops it while it waits for a lock another holds.
TIMEOUT_CODES = frozenset({
    "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
    "Neo.ClientError.Transaction.TransactionTimedOut",
    "Neo.ClientError.Transaction.LockClientStopped",
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


class QueryModeError(RuntimeError):
    """A query ran in a way its declared mode forbids (a catalogue mistake, not the caller's)."""


def _routing(file: CypherFile) -> RoutingControl:
    """Where a catalogue query goes: by the mode its file declares, never by the caller."""
    if file.mode is Mode.SCHEMA:
        raise QueryModeError(f"cypher/{file.name}.cypher is the schema: Graph.migrate applies it")
    return RoutingControl.WRITE if file.mode is Mode.WRITE else RoutingControl.READ


def _file_and_text(query: Q | Rendered) -> tuple[CypherFile, str]:
    if isinstance(query, Rendered):
        return query_file(query.template), query.text
    file = query_file(query)
    return file, file.text


def row_of(record: Record) -> Row:
    """The record as Record.data() gives it, without its cost on what queries mostly return (maps,
    lists and plain values, checked by exact type; a member page of 100 people is ~1,000 values):
    data() tests every value against abstract base classes, a tenth of a request's CPU."""
    return {key: _plain(value) for key, value in zip(record.keys(), record, strict=True)}


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {key: _plain(item) for key, item in value.items()}
    if kind is list:
        return [_plain(item) for item in value]
    return _EXPORT(value)  # nodes, relationships, paths, temporal values: as data() does


def _failure_kind(error: BaseException) -> str:
    """How a query failed, for its metric: before (inside a transaction) or after _errors converted it."""
    if isinstance(error, QueryTimeout) or (isinstance(error, ClientError) and error.code in TIMEOUT_CODES):
        return "timeout"
    if isinstance(error, (DatabaseUnavailable, *UNREACHABLE)):
        return "unavailable"
    return "error"


@contextmanager
def _timed(file: CypherFile) -> Iterator[None]:
    """The one place queries are timed (service.metrics): every catalogue query and template the service
    runs, by its name, its results read; a failure counted by kind as well."""
    started = time.perf_counter()
    try:
        yield
    except Exception as error:
        NEO4J_FAILURES.labels(file.name, _failure_kind(error)).inc()
        raise
    finally:
        NEO4J_SECONDS.labels(file.name).observe(time.perf_counter() - started)


class Transaction:
    """What the work of Graph.write_work runs its queries with: catalogue queries and templates
    (a read-mode query in a write transaction is fine); it notes whether one marked people."""

    def __init__(self, tx: AsyncManagedTransaction) -> None:
        self._tx = tx
        self.marked_people = False

    async def run(self, query: Q, /, **parameters: Any) -> list[Row]:
        file = query_file(query)
        return await self._run(file, file.text, parameters)

    async def run_template(self, rendered: Rendered, /, **parameters: Any) -> list[Row]:
        return await self._run(query_file(rendered.template), rendered.text, parameters)

    async def run_adhoc(self, text: str, /, **parameters: Any) -> list[Row]:
        """Cypher that is not in the catalogue: for tests and benchmarks only, never the service."""
        return [row_of(record) async for record in await self._tx.run(text, parameters)]

    async def _run(self, file: CypherFile, text: str, parameters: dict[str, Any]) -> list[Row]:
        _routing(file)  # the schema is refused here too
        self.marked_people = self.marked_people or file.marks_people
        with _timed(file):
            return [row_of(record) async for record in await self._tx.run(text, parameters)]


class Graph:
    """Runs the queries of the catalogue (service.queries, cypher/) against one database, each
    routed by the mode its file declares. After a commit that ran a query marking people for
    re-evaluation (`// marks: people`), the callbacks given to on_people_marked are called.

    timeout_seconds: every transaction is stopped by Neo4j once it runs longer (the service sets
    NEO4J_QUERY_TIMEOUT_SECONDS); None leaves only the server's own timeout, as for bulk imports.
    """

    def __init__(self, connection: Neo4jConnection, timeout_seconds: float | None = None,
                 driver: DriverTimeouts = DriverTimeouts()) -> None:
        catalogue()  # a broken cypher/ file stops the start-up here, saying which and why
        self.connection = connection
        self.database = connection.database
        self.timeout = timeout_seconds
        self.timeouts = driver
        self._people_marked: list[Callable[[], None]] = []
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

    def on_people_marked(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` after each commit that may have marked people; returns what unregisters it."""
        self._people_marked.append(callback)
        return lambda: self._people_marked.remove(callback)

    async def run(self, query: Q, /, **parameters: Any) -> list[Row]:
        """Run a catalogue query in its own transaction, routed by its declared mode."""
        file = query_file(query)
        return await self._execute(file, file.text, parameters)

    async def run_template(self, rendered: Rendered, /, **parameters: Any) -> list[Row]:
        """Run a template filled by the segment compiler, routed by the template's declared mode."""
        return await self._execute(query_file(rendered.template), rendered.text, parameters)

    async def rehearse(self, query: Q | Rendered, seconds: float, /,
                       after_write: tuple[Q, dict[str, Any]] | None = None, **parameters: Any) -> None:
        """Run a catalogue query or a filled template as a request would, in a transaction that is
        always rolled back and that Neo4j stops after `seconds`: for the warm-up (service.warmup),
        which needs Neo4j to plan and run it once, and to keep nothing it wrote. after_write: a write
        to run first, for a query that runs after one in its transaction (Neo4j caches its plan apart)."""
        file, text = _file_and_text(query)
        access = WRITE_ACCESS if after_write or _routing(file) is RoutingControl.WRITE else READ_ACCESS
        with self._errors():
            async with self._session(access) as session:
                tx = await session.begin_transaction(timeout=seconds)
                try:
                    if after_write:
                        await (await tx.run(query_file(after_write[0]).text, after_write[1])).consume()
                    await (await tx.run(text, parameters)).consume()
                finally:
                    await tx.close()  # rolls back

    async def run_adhoc(self, text: str, mode: Mode, /, **parameters: Any) -> list[Row]:
        """Cypher that is not in the catalogue: for tests and benchmarks only, never the service."""
        routing = RoutingControl.WRITE if mode is Mode.WRITE else RoutingControl.READ
        with self._errors():
            records, _, _ = await self.driver.execute_query(
                Query(text, timeout=self.timeout), parameters, database_=self.database, routing_=routing)
        return [row_of(record) for record in records]

    async def write_work(self, work: Callable[Concatenate[Transaction, P], Awaitable[T]],
                         *arguments: P.args, **keywords: P.kwargs) -> T:
        """Run work(transaction, *arguments) in one managed write transaction (retried on transient
        errors, so work may run more than once; only the attempt that commits counts)."""
        marked = False

        async def attempt(tx: AsyncManagedTransaction) -> T:
            nonlocal marked
            transaction = Transaction(tx)
            result = await work(transaction, *arguments, **keywords)
            marked = transaction.marked_people
            return result

        with self._errors():
            async with self._session(WRITE_ACCESS) as session:
                result = await session.execute_write(unit_of_work(timeout=self.timeout)(attempt))
        if marked:
            self._notify_people_marked()
        return result

    async def ping(self) -> None:
        """One attempt, not retried (a readiness probe must answer at once), bounded by connect_seconds
        even when Neo4j accepts connections but does not answer."""
        with self._errors():
            async with asyncio.timeout(self.timeouts.connect_seconds):
                async with self.driver.session(database=self.database, default_access_mode=READ_ACCESS) as session:
                    await (await session.run("RETURN 1")).consume()

    async def migrate(self) -> None:
        """Apply the constraints and indexes of cypher/schema.cypher, then the data migrations of
        cypher/migrations/; each is idempotent, so a migration cut short is completed by running it
        again (the service retries it until it works)."""
        with self._errors():
            async with self._session(WRITE_ACCESS) as session:
                for statement in query_file(Q.SCHEMA).statements():
                    await (await session.run(Query(statement, timeout=self.timeout))).consume()
                for migration in MIGRATIONS:  # auto-commit: a migration writes in transactions of its own
                    await (await session.run(Query(query_file(migration).text, timeout=self.timeout))).consume()
        # Companies written before they held their opportunity figures get them (once: then none lacks them).
        missing = [row["id"] for row in await self.run(Q.COMPANIES_WITHOUT_FIGURES)]
        for start in range(0, len(missing), FIGURES_BATCH):
            await self.run(Q.COMPANIES_ROLLUP, keys=[], ids=missing[start:start + FIGURES_BATCH])

    async def _execute(self, file: CypherFile, text: str, parameters: dict[str, Any]) -> list[Row]:
        routing = _routing(file)
        try:
            with _timed(file), self._errors():
                if routing is RoutingControl.READ:
                    return await self._read(Query(text, timeout=self.timeout), parameters)
                records, _, _ = await self.driver.execute_query(
                    Query(text, timeout=self.timeout), parameters, database_=self.database, routing_=routing)
        except ClientError as error:
            if error.code == ACCESS_MODE_CODE:  # Neo4j refused a write in a read transaction
                raise QueryModeError(f"cypher/{file.name}.cypher writes but declares '// mode: {file.mode}'; "
                                     "declare '// mode: write'") from error
            raise
        if file.marks_people:
            self._notify_people_marked()
        return [row_of(record) for record in records]

    async def _read(self, query: Query, parameters: dict[str, Any]) -> list[Row]:
        """A read in one auto-commit transaction: one round trip (a managed transaction takes two,
        and half again the driver's CPU), retried like one on errors Neo4j calls retryable, within
        retry_seconds."""
        deadline = time.monotonic() + self.timeouts.retry_seconds
        delay = READ_RETRY_FIRST_DELAY
        while True:
            try:
                async with self._session(READ_ACCESS) as session:
                    return [row_of(record) async for record in await session.run(query, parameters)]
            except (Neo4jError, DriverError) as error:
                if not error.is_retryable() or time.monotonic() + delay > deadline:
                    raise
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay *= 2

    def _session(self, access: str) -> AsyncSession:
        """A session of the process's one bookmark manager (the one execute_query uses): every read
        waits for the writes this process made before it, on a single server and on a cluster, where
        a read may go to a follower that has not applied them yet."""
        return self.driver.session(database=self.database, default_access_mode=access,
                                   bookmark_manager=self.driver.execute_query_bookmark_manager)

    def _notify_people_marked(self) -> None:
        for callback in list(self._people_marked):
            try:
                callback()
            except Exception:  # a listener's bug must not fail the write that has committed
                log.exception("a people-marked callback failed")

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
