"""What every command that talks to Neo4j shares."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from service.config import Settings
from service.database import Graph, Neo4jConnection
from service.neo4j_provider import provide_neo4j

T = TypeVar("T")
Commands = Any  # argparse's private _SubParsersAction
Handler = Callable[[Settings, argparse.Namespace], None]


async def with_graph(connection: Neo4jConnection, work: Callable[[Graph], Awaitable[T]]) -> T:
    graph = Graph(connection)
    try:
        return await work(graph)
    finally:
        await graph.close()


def on_graph(settings: Settings, work: Callable[[Graph], Awaitable[T]]) -> T:
    """Make sure a Neo4j runs (see service.neo4j_provider), apply the schema, and run `work` on it."""
    neo4j = provide_neo4j(settings)

    async def migrated(graph: Graph) -> T:
        await graph.migrate()
        return await work(graph)

    return asyncio.run(with_graph(neo4j.connection, migrated))
