// name: ingest/web_visits_delete
// Delete web visits by (source, sourceKey).
// mode: write
// marks: people
UNWIND $rows AS row
MATCH (v:WebVisit {source: $source, sourceKey: row.sourceKey})
CALL (v) {
  MATCH (p:Person)-[:VISITED]->(v)
  WHERE $mark
  SET p:PendingEvaluation
}
DETACH DELETE v
