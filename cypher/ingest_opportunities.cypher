// name: ingest_opportunities
// Upsert opportunities keyed by (source, sourceKey) and attach each to its account.
UNWIND $rows AS row
MATCH (a:Account {source: $source, sourceKey: row.accountKey})
MERGE (o:Opportunity {source: $source, sourceKey: row.sourceKey})
SET o.name = row.name, o.amount = row.amount, o.stage = row.stage,
    o.isWon = row.isWon, o.isClosed = row.isClosed, o.closeDate = row.closeDate
MERGE (a)-[:HAS_OPPORTUNITY]->(o)
