// name: ingest_accounts
// Upsert accounts keyed by (source, sourceKey).
MERGE (s:Source {name: $source})
WITH s
UNWIND $rows AS row
MERGE (a:Account {source: $source, sourceKey: row.sourceKey})
SET a.name = row.name, a.industry = row.industry, a.country = row.country
MERGE (a)-[:FROM_SOURCE]->(s)
