"""Builds small graphs for tests directly in Cypher, in the shape the ingestion writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.database import Graph
from service.queries import Q
from tests.helpers import run_cypher

PAGE = "https://www.bodea.com/products/new-product"


def days_ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


async def account(graph: Graph, key: str, source: str = "CRM 1") -> None:
    """An account written by the product's own upsert (so it has its Company)."""
    await graph.run(Q.ACCOUNTS_UPSERT, source=source, seenAt=days_ago(0), mark=False, rows=[{
        "sourceKey": key, "name": key, "industry": None, "country": None, "employees": None, "website": None}])
    await refigure(graph)


async def link(graph: Graph, key_a: str, key_b: str, source: str = "CRM 1") -> None:
    """An MDM link written and regrouped by the product's own queries."""
    await graph.run(Q.SAME_COMPANY_UPSERT, source="MDM", seenAt=days_ago(0), rows=[{
        "mdmId": f"{key_a}~{key_b}", "sourceA": source, "keyA": key_a, "sourceB": source, "keyB": key_b,
        "updatedAt": None}])
    await graph.run(Q.COMPANIES_REGROUP, keys=[{"source": source, "sourceKey": k} for k in (key_a, key_b)])
    await refigure(graph)


async def opportunity(graph: Graph, key: str, accounts: list[str], amount: float,
                      stage: str = "Closed Won") -> None:
    await run_cypher(graph, """
        CREATE (o:Opportunity {source: 'CRM 1', sourceKey: $key, name: $key, amount: $amount, stage: $stage,
                               isWon: $stage = 'Closed Won', isClosed: $stage STARTS WITH 'Closed'})
        WITH o
        UNWIND $accounts AS accountKey
        MATCH (a:Account {sourceKey: accountKey})
        CREATE (a)-[:HAS_OPPORTUNITY]->(o)""",
        key=key, accounts=accounts, amount=float(amount), stage=stage)
    await refigure(graph)


async def refigure(graph: Graph) -> None:
    """Every company's opportunity figures, as the ingestion keeps them (ingest/companies_rollup)."""
    ids = [row["id"] for row in await run_cypher(graph, "MATCH (c:Company) RETURN c.id AS id")]
    await graph.run(Q.COMPANIES_ROLLUP, keys=[], ids=ids)


async def person(graph: Graph, email: str, accounts: list[str]) -> None:
    await run_cypher(graph, """
        MERGE (p:Person {email: $email})
        WITH p
        UNWIND $accounts AS accountKey
        MATCH (a:Account {sourceKey: accountKey})
        MERGE (p)-[:ASSOCIATED_WITH]->(a)""", email=email, accounts=accounts)


async def visit(graph: Graph, email: str, at: datetime, url: str = PAGE) -> None:
    await run_cypher(graph, """
        MATCH (p:Person {email: $email})
        CREATE (p)-[:VISITED]->(:WebVisit {source: 'Marketo 1', sourceKey: randomUUID(), url: $url, visitedAt: $at})""",
        email=email, at=at, url=url)
