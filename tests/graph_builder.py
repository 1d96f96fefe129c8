"""Builds small graphs for tests directly in Cypher, in the shape the ingestion writes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from service.database import Graph
from tests.conftest import run_cypher

PAGE = "https://www.bodea.com/products/new-product"


def days_ago(days: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(days=days)


async def account(graph: Graph, key: str, source: str = "CRM 1") -> None:
    await run_cypher(graph, "MERGE (:Account {source: $source, sourceKey: $key, name: $key})",
                     source=source, key=key)


async def link(graph: Graph, key_a: str, key_b: str, mdm_id: str = "") -> None:
    await run_cypher(graph, """
        MATCH (a:Account {sourceKey: $a}), (b:Account {sourceKey: $b})
        CREATE (a)-[:SAME_COMPANY {source: 'MDM', mdmId: $mdmId}]->(b)""",
        a=key_a, b=key_b, mdmId=mdm_id or f"{key_a}~{key_b}")


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
