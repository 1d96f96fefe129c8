"""The opportunity figures each company holds (sum, count and max of its deals' amounts, per status:
won, lost, open, any), kept by every write in its own transaction (ingest/companies_rollup), and
checked against a recomputation from scratch by `accountgraph verify`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.database import Graph, Transaction
from service.queries import Q

BATCH = 10_000  # companies recomputed per query by verify


@dataclass(frozen=True)
class Drift:
    company: str
    figure: str
    held: Any  # what the company held
    computed: Any  # what its deals add up to now

    def __str__(self) -> str:
        return f"{self.company}: {self.figure} held {self.held!r}, computed {self.computed!r}"


class _Found(Exception):
    """Drift found by a verification that must not write: raised to roll its transaction back."""

    def __init__(self, drifts: list[Drift]) -> None:
        self.drifts = drifts


async def verify(graph: Graph, repair: bool = False) -> list[Drift]:
    """Every company's figures recomputed from its deals; the differences from what it held. With
    repair, the recomputed figures are kept; without, nothing is written."""
    ids = [row["id"] for row in await graph.run(Q.COMPANIES_ALL)]
    drifts: list[Drift] = []
    for start in range(0, len(ids), BATCH):
        try:
            drifts += await graph.write_work(_recompute, ids[start:start + BATCH], repair)
        except _Found as found:
            drifts += found.drifts
    return drifts


async def _recompute(tx: Transaction, ids: list[str], repair: bool) -> list[Drift]:
    drifts = [Drift(row["id"], figure, row["before"][figure], computed)
              for row in await tx.run(Q.COMPANIES_ROLLUP, keys=[], ids=ids)
              for figure, computed in sorted(row["after"].items()) if row["before"][figure] != computed]
    if drifts and not repair:
        raise _Found(drifts)
    return drifts


async def refigure(tx: Transaction, accounts: list[dict[str, str]]) -> None:
    """The figures of these accounts' companies (by identity), in the transaction of the change."""
    if accounts:
        await tx.run(Q.COMPANIES_ROLLUP, keys=accounts, ids=[])
