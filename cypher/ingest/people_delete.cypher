// name: ingest/people_delete
// A source deletes its person records: drop what that source said about them; a person no source knows goes.
// mode: write
// marks: people
MATCH (s:Source {name: $source})
UNWIND $rows AS row
MATCH (p:Person)-[known:KNOWN_IN]->(s)
USING INDEX known:KNOWN_IN(sourceKey)
WHERE known.sourceKey = row.sourceKey
DELETE known
WITH p
CALL (p) {
  MATCH (p)-[said:ASSOCIATED_WITH|CONTACT_FOR|MEMBER_OF|ON_LIST]->()
  WHERE said.source = $source
  DELETE said
}
CALL (p) {
  MATCH (p)-[:VISITED]->(v:WebVisit {source: $source})
  DETACH DELETE v
}
FOREACH (_ IN CASE WHEN $mark THEN [1] ELSE [] END | SET p:PendingEvaluation)
WITH p
WHERE NOT (p)-[:KNOWN_IN]->()
CALL (p) {
  OPTIONAL MATCH (p)-[:VISITED]->(v:WebVisit)
  DETACH DELETE v
}
DETACH DELETE p
