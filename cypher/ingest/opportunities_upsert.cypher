// name: ingest/opportunities_upsert
// Upsert opportunities, a synced copy as one record with its original, each on its account; returns accounts to mark.
// mode: write
// marks: people
MERGE (s:Source {name: $source})
WITH s
UNWIND $rows AS row
MATCH (a:Account)-[byKey:KNOWN_IN]->(s)
USING INDEX byKey:KNOWN_IN(sourceKey)
WHERE byKey.sourceKey = row.accountKey
// The record's identity: the original's key for a synced copy, the row's own key otherwise.
MERGE (o:Opportunity {source: coalesce(row.syncedFromSource, $source), sourceKey: coalesce(row.syncedFromKey, row.sourceKey)})
  ON CREATE SET o.firstSeenAt = $seenAt
MERGE (o)-[known:KNOWN_IN {sourceKey: row.sourceKey}]->(s)
  ON CREATE SET known.firstSeenAt = $seenAt
SET known.lastSeenAt = $seenAt, o.lastSeenAt = $seenAt
// Field conflicts (docs/import-format.md): the system of record wins for every value it gives (amount,
// stage and close date always); a copy's values stand while the original is unknown.
WITH s, row, a, o, o.source = $source OR NOT EXISTS { (o)-[:KNOWN_IN]->(:Source {name: o.source}) } AS decides,
     o.source = $source AND EXISTS { (o)-[:KNOWN_IN]->(other:Source) WHERE other.name <> $source } AS filled
WITH s, row, a, o, decides,
     CASE WHEN decides THEN row ELSE properties(o) END AS winner,
     CASE WHEN filled THEN properties(o) WHEN decides THEN {} ELSE row END AS fallback
SET o.name = coalesce(winner.name, fallback.name), o.amount = coalesce(winner.amount, fallback.amount),
    o.currency = coalesce(winner.currency, fallback.currency), o.stage = coalesce(winner.stage, fallback.stage),
    o.isWon = coalesce(winner.isWon, fallback.isWon), o.isClosed = coalesce(winner.isClosed, fallback.isClosed),
    o.closeDate = coalesce(winner.closeDate, fallback.closeDate)
WITH s, row, a, o, decides
// The account is the system of record's; a copy places the opportunity only while the original is unknown.
CALL (a, o, decides) {
  WITH a, o
  WHERE decides OR NOT (o)<-[:HAS_OPPORTUNITY]-(:Account)
  MERGE (a)-[has:HAS_OPPORTUNITY]->(o)
  SET has.source = $source, has.lastSeenAt = $seenAt
  WITH a, o
  OPTIONAL MATCH (previous:Account)-[moved:HAS_OPPORTUNITY]->(o)
  WHERE previous <> a
  DELETE moved
  RETURN collect(previous {.source, .sourceKey}) AS left
}
// The sync changed (a copy stopped naming its original, or names another): the source's key and its
// contact roles move to this record; a record no source knows any more goes.
CALL (s, row, o) {
  OPTIONAL MATCH (old:Opportunity)-[stale:KNOWN_IN]->(s)
  USING INDEX stale:KNOWN_IN(sourceKey)
  WHERE stale.sourceKey = row.sourceKey AND old <> o
  DELETE stale
  WITH o, old
  CALL (o, old) {
    MATCH (p:Person)-[said:CONTACT_FOR {source: $source}]->(old)
    MERGE (p)-[moved:CONTACT_FOR]->(o)
    SET moved += properties(said)
    DELETE said
  }
  OPTIONAL MATCH (holder:Account)-[:HAS_OPPORTUNITY]->(old)
  WITH old, holder
  WHERE old IS NOT NULL AND NOT (old)-[:KNOWN_IN]->()
  DETACH DELETE old
  RETURN collect(holder {.source, .sourceKey}) AS held
}
UNWIND [a {.source, .sourceKey}] + left + held AS touched
RETURN touched
