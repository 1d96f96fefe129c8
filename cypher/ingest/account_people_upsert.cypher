// name: ingest/account_people_upsert
// Link people to accounts of one source, with the person's role at the account.
// mode: write
UNWIND $rows AS row
MATCH (p:Person {email: row.email})
MATCH (a:Account {source: $source, sourceKey: row.accountKey})
MERGE (p)-[r:ASSOCIATED_WITH]->(a)
  ON CREATE SET r.firstSeenAt = $seenAt
SET r.source = $source, r.role = row.role, r.lastSeenAt = $seenAt
