// name: ingest_web_visits
// Upsert web visits keyed by (source, sourceKey) and attach each to the visiting person.
UNWIND $rows AS row
MATCH (p:Person {email: row.email})
MERGE (v:WebVisit {source: $source, sourceKey: row.sourceKey})
SET v.url = row.url, v.visitedAt = row.visitedAt
MERGE (p)-[:VISITED]->(v)
