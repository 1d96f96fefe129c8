"""The naive alternative: the audience as a resolver-per-field GraphQL API computes it (N+1).

Each object asks for its own children with one small query, the way plain resolvers without
DataLoaders do when a client sends

    visits(url, withinDays) { person { email accounts { company { accounts { opportunities { amount isWon } } } } } }

and the client then keeps the people whose company won more than the amount. Siblings are resolved
concurrently (as GraphQL executors do), at most CONCURRENCY queries at a time, over the same driver
and Neo4j as the product. These queries are the alternative being measured, not the product's, so
they live here rather than in cypher/.

It reads the same graph as the product, where a synced copy and its original are one Opportunity
(with the system of record's amount and stage) and one Account: each opportunity node is summed
once per company, however many of the company's accounts list it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from neo4j import AsyncDriver, RoutingControl

CONCURRENCY = 8

VISITS = ("MATCH (v:WebVisit) WHERE v.url = $url AND v.visitedAt >= datetime() - duration({days: $days}) "
          "RETURN elementId(v) AS id")
PERSON_OF_VISIT = "MATCH (p:Person)-[:VISITED]->(v:WebVisit) WHERE elementId(v) = $id RETURN p.email AS email"
ACCOUNTS_OF_PERSON = "MATCH (:Person {email: $email})-[:ASSOCIATED_WITH]->(a:Account) RETURN elementId(a) AS id"
COMPANY_OF_ACCOUNT = "MATCH (a:Account)-[:PART_OF]->(c:Company) WHERE elementId(a) = $id RETURN c.id AS id"
ACCOUNTS_OF_COMPANY = "MATCH (a:Account)-[:PART_OF]->(:Company {id: $id}) RETURN elementId(a) AS id"
OPPORTUNITIES_OF_ACCOUNT = ("MATCH (a:Account)-[:HAS_OPPORTUNITY]->(o:Opportunity) WHERE elementId(a) = $id "
                            "RETURN elementId(o) AS id, o.amount AS amount, o.isWon AS isWon")


@dataclass
class Resolver:
    driver: AsyncDriver
    database: str
    queries: int = 0

    def __post_init__(self) -> None:
        self.slots = asyncio.Semaphore(CONCURRENCY)

    async def rows(self, statement: str, **parameters: Any) -> list[dict[str, Any]]:
        async with self.slots:
            self.queries += 1
            records, _, _ = await self.driver.execute_query(statement, parameters, database_=self.database,
                                                            routing_=RoutingControl.READ)
        return [record.data() for record in records]

    async def company_won_total(self, company_id: str) -> float:
        accounts = await self.rows(ACCOUNTS_OF_COMPANY, id=company_id)
        opportunities = await asyncio.gather(*(self.rows(OPPORTUNITIES_OF_ACCOUNT, id=a["id"]) for a in accounts))
        won = {o["id"]: o["amount"] or 0.0 for rows in opportunities for o in rows if o["isWon"]}
        return sum(won.values())

    async def account_total(self, account_id: str) -> float:
        companies = await self.rows(COMPANY_OF_ACCOUNT, id=account_id)
        return max([await self.company_won_total(c["id"]) for c in companies], default=0.0)

    async def visitor(self, visit_id: str, amount: float) -> str | None:
        """The visit's person, if one of their companies won more than `amount`."""
        for person in await self.rows(PERSON_OF_VISIT, id=visit_id):
            accounts = await self.rows(ACCOUNTS_OF_PERSON, email=person["email"])
            totals = await asyncio.gather(*(self.account_total(a["id"]) for a in accounts))
            if any(total > amount for total in totals):
                return person["email"]
        return None


async def audience(driver: AsyncDriver, database: str, amount: float, page: str, days: int) -> tuple[set[str], int]:
    """The people the Townsend-style rule selects, and how many queries it took."""
    resolver = Resolver(driver, database)
    visits = await resolver.rows(VISITS, url=page, days=days)
    people = await asyncio.gather(*(resolver.visitor(v["id"], amount) for v in visits))
    return {email for email in people if email}, resolver.queries
