// name: ingest/opportunities_upsert
// Upsert opportunities by (source, sourceKey) and attach each to its account (moving it if the account changed).
// mode: write
UNWIND $rows AS row
MATCH (a:Account {source: $source, sourceKey: row.accountKey})
MERGE (o:Opportunity {source: $source, sourceKey: row.sourceKey})
  ON CREATE SET o.firstSeenAt = $seenAt
SET o.name = row.name, o.amount = row.amount, o.currency = row.currency, o.stage = row.stage,
    o.isWon = row.isWon, o.isClosed = row.isClosed, o.closeDate = row.closeDate, o.lastSeenAt = $seenAt
MERGE (a)-[has:HAS_OPPORTUNITY]->(o)
  ON CREATE SET has.source = $source
SET has.lastSeenAt = $seenAt
WITH a, o
OPTIONAL MATCH (previous:Account {source: $source})-[moved:HAS_OPPORTUNITY]->(o)
WHERE previous <> a
DELETE moved
