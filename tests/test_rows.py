"""service.database.row_of: the rows every query returns are what the driver's Record.data() gives,
for every kind of value Neo4j can send (the fast path only skips its cost on maps, lists and plain values)."""

from __future__ import annotations

import pytest

from service.database import Graph, row_of
from tests.helpers import run_cypher

EVERY_KIND = """
CREATE path = (a:RowsProbe {name: 'a', seen: datetime('2026-11-30T10:00:00Z')})
               -[r:ROWS_LINK {w: 1.5}]->(b:RowsProbe {name: 'b'})
RETURN 1 AS int, 1.5 AS float, 'text' AS text, true AS flag, null AS nothing,
       [1, 'two', null, [3]] AS list, {n: 1, inner: {list: [a], when: date('2026-11-30')}} AS map,
       a AS node, r AS relationship, path, [a, b] AS nodes, point({x: 1, y: 2}) AS point,
       duration('P1D') AS duration, localtime('10:00') AS time, [{r: r}] AS relationships_in_maps
"""


@pytest.mark.asyncio
async def test_a_row_is_what_record_data_gives_for_every_kind_of_value(graph: Graph) -> None:
    async with graph.driver.session(database=graph.database) as session:
        records = [record async for record in await session.run(EVERY_KIND)]
    assert len(records) == 1
    record = records[0]
    row = row_of(record)
    assert row == record.data()
    assert row["node"] == {"name": "a", "seen": record["node"]["seen"]}
    assert row["map"]["inner"]["list"][0]["name"] == "a"
    assert row["relationship"] == ({"name": "a", "seen": record["node"]["seen"]}, "ROWS_LINK", {"name": "b"})
    assert await run_cypher(graph, "MATCH (n:RowsProbe) DETACH DELETE n RETURN count(*) AS gone") == [{"gone": 2}]
