// name: ingest/account_people_upsert
// Link people to accounts, by the source's account keys, with the person's role at the account.
// mode: write
MATCH (s:Source {name: $source})
UNWIND $rows AS row
MATCH (p:Person {email: row.email})
MATCH (a:Account)-[byKey:KNOWN_IN]->(s)
USING INDEX byKey:KNOWN_IN(sourceKey)
WHERE byKey.sourceKey = row.accountKey
MERGE (p)-[r:ASSOCIATED_WITH]->(a)
  ON CREATE SET r.firstSeenAt = $seenAt
SET r.source = $source, r.role = row.role, r.lastSeenAt = $seenAt
// A role may fill or empty a buying group: every person of the account's company is marked.
RETURN a {.source, .sourceKey} AS companyOf
