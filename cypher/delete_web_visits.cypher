// name: delete_web_visits
// Delete web visits by (source, sourceKey).
UNWIND $rows AS row
MATCH (v:WebVisit {source: $source, sourceKey: row.sourceKey})
CALL (v) {
  MATCH (p:Person)-[:VISITED]->(v)
  WHERE $mark
  SET p:PendingEvaluation
}
DETACH DELETE v
