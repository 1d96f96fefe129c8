// name: ingest/lists_delete
// Delete marketing lists (and their memberships) by (source, sourceKey).
// mode: write
// marks: people
UNWIND $rows AS row
MATCH (l:MarketingList {source: $source, sourceKey: row.sourceKey})
CALL (l) {
  MATCH (p:Person)-[:ON_LIST]->(l)
  WHERE $mark
  SET p:PendingEvaluation
}
DETACH DELETE l
