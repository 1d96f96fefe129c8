// name: ingest/accounts_keys_move
// After an account upsert: a source key that named another record (a sync unlinked or relinked) moves here.
// mode: write
// marks: people
// What the source said through the key moves with it; a record no source knows any more goes, and the
// accounts it was linked to are returned to be regrouped.
MATCH (s:Source {name: $source})
UNWIND $rows AS row
MATCH (a:Account {source: coalesce(row.syncedFromSource, $source), sourceKey: coalesce(row.syncedFromKey, row.sourceKey)})
MATCH (old:Account)-[stale:KNOWN_IN]->(s)
USING INDEX stale:KNOWN_IN(sourceKey)
WHERE stale.sourceKey = row.sourceKey AND old <> a
DELETE stale
WITH a, old
CALL (a, old) {
  MATCH (p:Person)-[said:ASSOCIATED_WITH {source: $source}]->(old)
  MERGE (p)-[moved:ASSOCIATED_WITH]->(a)
  SET moved += properties(said)
  DELETE said
}
CALL (a, old) {
  MATCH (old)-[said:HAS_OPPORTUNITY {source: $source}]->(o:Opportunity)
  MERGE (a)-[moved:HAS_OPPORTUNITY]->(o)
  SET moved += properties(said)
  DELETE said
}
CALL (old) {
  MATCH (old)-[:PART_OF]->(:Company)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person)
  WHERE $mark
  SET p:PendingEvaluation
}
WITH old
WHERE NOT (old)-[:KNOWN_IN]->()
OPTIONAL MATCH (old)-[:SAME_COMPANY]-(neighbour:Account)
OPTIONAL MATCH (old)-[:PART_OF]->(company:Company)
WITH old, company, collect(DISTINCT neighbour {.source, .sourceKey}) AS regroup
DETACH DELETE old
WITH company, regroup
CALL (company) {
  WITH company
  WHERE company IS NOT NULL AND NOT (company)<-[:PART_OF]-()
  DETACH DELETE company
}
RETURN regroup
