// name: ingest/opportunities_delete
// Delete opportunities by (source, sourceKey).
// mode: write
// marks: people
UNWIND $rows AS row
MATCH (o:Opportunity {source: $source, sourceKey: row.sourceKey})
CALL (o) {
  MATCH (o)<-[:HAS_OPPORTUNITY]-(:Account)-[:PART_OF]->(company:Company)
  MATCH (company)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person)
  WHERE $mark
  SET p:PendingEvaluation
}
DETACH DELETE o
