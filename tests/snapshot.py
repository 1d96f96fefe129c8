"""The whole graph as comparable data, to prove that something changed nothing."""

from __future__ import annotations

from typing import Any

from service.database import Graph
from tests.helpers import run_cypher

# lastUsedAt: an API key records its use, which a request that changes nothing still is.
VOLATILE = {"lastSeenAt", "lastUsedAt"}


def _clean(properties: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in properties.items() if k not in VOLATILE))


async def snapshot(graph: Graph) -> tuple[list[Any], list[Any]]:
    nodes = await run_cypher(graph, "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props")
    rels = await run_cypher(graph, """
        MATCH (a)-[r]->(b)
        RETURN type(r) AS type, properties(r) AS props, properties(a) AS a, properties(b) AS b""")
    return (
        sorted((tuple(sorted(n["labels"])), _clean(n["props"])) for n in nodes),
        sorted((r["type"], _clean(r["props"]), _clean(r["a"]), _clean(r["b"])) for r in rels),
    )
