// name: ingest/accounts_delete
// Delete accounts with the opportunities only they hold; returns linked accounts whose company must be regrouped.
// mode: write
// marks: people
UNWIND $rows AS row
MATCH (a:Account {source: $source, sourceKey: row.sourceKey})
OPTIONAL MATCH (a)-[:SAME_COMPANY]-(neighbour:Account)
WITH a, collect(DISTINCT neighbour {.source, .sourceKey}) AS regroup
CALL (a) {
  // Everyone of the company loses its accounts' opportunities from the totals.
  MATCH (a)-[:PART_OF]->(company:Company)
  MATCH (company)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person)
  WHERE $mark
  SET p:PendingEvaluation
}
CALL (a) {
  MATCH (a)-[:HAS_OPPORTUNITY]->(o:Opportunity)
  WHERE NOT EXISTS { (o)<-[:HAS_OPPORTUNITY]-(other:Account) WHERE other <> a }
  DETACH DELETE o
}
OPTIONAL MATCH (a)-[:PART_OF]->(company:Company)
DETACH DELETE a
WITH regroup, company
CALL (company) {
  WITH company
  WHERE company IS NOT NULL AND NOT (company)<-[:PART_OF]-()
  DELETE company
}
RETURN regroup
