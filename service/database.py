"""The Neo4j driver: one async driver per process, every call names its database and routing."""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from neo4j import AsyncDriver, AsyncGraphDatabase, RoutingControl
from pydantic import SecretStr

from service.queries import cypher, queries

T = TypeVar("T")


@dataclass(frozen=True)
class Neo4jConnection:
    uri: str
    user: str
    password: SecretStr
    database: str


class Graph:
    """Runs the named queries of cypher/ against one database."""

    def __init__(self, connection: Neo4jConnection) -> None:
        self.connection = connection
        self.database = connection.database
        self.driver: AsyncDriver = AsyncGraphDatabase.driver(
            connection.uri, auth=(connection.user, connection.password.get_secret_value()),
            # A rule may name a relationship type no import has created yet: that is not worth a warning.
            notifications_disabled_classifications=["UNRECOGNIZED"],
        )

    async def close(self) -> None:
        await self.driver.close()

    async def read(self, query: str, **parameters: Any) -> list[dict[str, Any]]:
        return await self.read_text(cypher(query), parameters)

    async def write(self, query: str, **parameters: Any) -> list[dict[str, Any]]:
        return await self.write_text(cypher(query), parameters)

    async def read_text(self, text: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
        """Run Cypher built from a named template (see service.segments.compiler); values as parameters."""
        records, _, _ = await self.driver.execute_query(
            text, parameters, database_=self.database, routing_=RoutingControl.READ
        )
        return [record.data() for record in records]

    async def write_text(self, text: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
        records, _, _ = await self.driver.execute_query(
            text, parameters, database_=self.database, routing_=RoutingControl.WRITE
        )
        return [record.data() for record in records]

    async def write_work(self, work: Callable[..., Awaitable[T]], *arguments: Any) -> T:
        """Run work(tx, *arguments) in one managed write transaction (retried on transient errors)."""
        async with self.driver.session(database=self.database) as session:
            return await session.execute_write(work, *arguments)

    async def ping(self) -> None:
        await self.driver.execute_query("RETURN 1", database_=self.database, routing_=RoutingControl.READ)

    async def migrate(self) -> None:
        """Apply the constraints and indexes of cypher/schema.cypher; each is IF NOT EXISTS."""
        async with self.driver.session(database=self.database) as session:
            for statement in queries()["schema"].statements():
                await (await session.run(statement)).consume()
