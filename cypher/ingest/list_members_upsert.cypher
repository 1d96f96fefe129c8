// name: ingest/list_members_upsert
// Put people on marketing lists of one source.
// mode: write
UNWIND $rows AS row
MATCH (p:Person {email: row.email})
MATCH (l:MarketingList {source: $source, sourceKey: row.listKey})
MERGE (p)-[r:ON_LIST]->(l)
  ON CREATE SET r.firstSeenAt = $seenAt
SET r.source = $source, r.lastSeenAt = $seenAt
