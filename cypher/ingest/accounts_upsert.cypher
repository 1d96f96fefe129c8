// name: ingest/accounts_upsert
// Upsert accounts by (source, sourceKey); a new account starts as a company of its own.
// mode: write
UNWIND $rows AS row
MERGE (a:Account {source: $source, sourceKey: row.sourceKey})
  ON CREATE SET a.firstSeenAt = $seenAt
SET a.name = row.name, a.industry = row.industry, a.country = row.country,
    a.employees = row.employees, a.website = row.website, a.lastSeenAt = $seenAt
WITH a
WHERE NOT (a)-[:PART_OF]->(:Company)
MERGE (c:Company {id: a.source + '/' + a.sourceKey})
MERGE (a)-[:PART_OF]->(c)
