// name: ingest/opportunities_delete
// A source deletes its opportunities (its key, contact roles; the record once no source knows it); returns accounts.
// mode: write
// marks: people
MATCH (s:Source {name: $source})
UNWIND $rows AS row
MATCH (o:Opportunity)-[known:KNOWN_IN]->(s)
USING INDEX known:KNOWN_IN(sourceKey)
WHERE known.sourceKey = row.sourceKey
DELETE known
WITH o
CALL (o) {
  MATCH (o)<-[:HAS_OPPORTUNITY]-(:Account)-[:PART_OF]->(company:Company)
  MATCH (company)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person)
  WHERE $mark
  SET p:PendingEvaluation
}
CALL (o) {
  MATCH (:Person)-[said:CONTACT_FOR {source: $source}]->(o)
  DELETE said
}
WITH o, COLLECT { MATCH (holder:Account)-[:HAS_OPPORTUNITY]->(o) RETURN holder {.source, .sourceKey} } AS holders
CALL (o) {
  WITH o
  WHERE NOT (o)-[:KNOWN_IN]->()
  DETACH DELETE o
}
UNWIND holders AS touched
RETURN touched
