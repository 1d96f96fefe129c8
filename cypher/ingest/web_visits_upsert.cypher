// name: ingest/web_visits_upsert
// Upsert web visits by (source, sourceKey) and attach each to the visiting person.
// mode: write
UNWIND $rows AS row
MATCH (p:Person {email: row.email})
MERGE (v:WebVisit {source: $source, sourceKey: row.sourceKey})
  ON CREATE SET v.firstSeenAt = $seenAt
SET v.url = row.url, v.visitedAt = datetime({epochMillis: row.visitedAt}), v.lastSeenAt = $seenAt
MERGE (p)-[visited:VISITED]->(v)
  ON CREATE SET visited.source = $source
SET visited.lastSeenAt = $seenAt
WITH p, v
OPTIONAL MATCH (previous:Person)-[moved:VISITED]->(v)
WHERE previous <> p
DELETE moved
