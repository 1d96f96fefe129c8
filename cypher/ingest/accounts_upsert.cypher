// name: ingest/accounts_upsert
// Upsert accounts, a synced copy as one record with its original; returns the accounts to mark.
// mode: write
MERGE (s:Source {name: $source})
WITH s
UNWIND $rows AS row
// The record's identity: the original's key for a synced copy, the row's own key otherwise.
MERGE (a:Account {source: coalesce(row.syncedFromSource, $source), sourceKey: coalesce(row.syncedFromKey, row.sourceKey)})
  ON CREATE SET a.firstSeenAt = $seenAt
MERGE (a)-[known:KNOWN_IN {sourceKey: row.sourceKey}]->(s)
  ON CREATE SET known.firstSeenAt = $seenAt
SET known.lastSeenAt = $seenAt, a.lastSeenAt = $seenAt
// Field conflicts (docs/import-format.md): the system of record wins for every value it gives; a copy's
// values stand while the original is unknown, and fill what the original leaves empty.
WITH s, row, a, a.source = $source AS ofRecord,
     EXISTS { (a)-[:KNOWN_IN]->(other:Source) WHERE other.name <> $source } AS elsewhere,
     EXISTS { (a)-[:KNOWN_IN]->(:Source {name: a.source}) } AS originalKnown
WITH s, row, a,
     CASE WHEN ofRecord OR NOT originalKnown THEN row ELSE properties(a) END AS winner,
     CASE WHEN ofRecord AND elsewhere THEN properties(a) WHEN ofRecord OR NOT originalKnown THEN {} ELSE row END AS fallback
SET a.name = coalesce(winner.name, fallback.name), a.industry = coalesce(winner.industry, fallback.industry),
    a.country = coalesce(winner.country, fallback.country), a.employees = coalesce(winner.employees, fallback.employees),
    a.website = coalesce(winner.website, fallback.website)
WITH s, row, a
CALL (a) {
  WITH a
  WHERE NOT (a)-[:PART_OF]->(:Company)
  MERGE (c:Company {id: a.source + '/' + a.sourceKey})
  MERGE (a)-[:PART_OF]->(c)
}
RETURN a {.source, .sourceKey} AS touched
