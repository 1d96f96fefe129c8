// name: ingest/families_derive
// Re-derive the company hierarchy (Company CHILD_OF Company) of these accounts' companies from their accounts' SUBSIDIARY_OF links.
// mode: write
UNWIND $keys AS key
MATCH (:Account {source: key.source, sourceKey: key.sourceKey})-[:PART_OF]->(c:Company)
WITH DISTINCT c
CALL (c) {
  MATCH (c)-[old:CHILD_OF]-(:Company)
  DELETE old
}
CALL (c) {
  // Two MATCH clauses: the company's own account may be the parent's account of another of its accounts.
  MATCH (c)<-[:PART_OF]-(:Account)-[:SUBSIDIARY_OF]->(parentAccount:Account)
  MATCH (parentAccount)-[:PART_OF]->(parent:Company)
  WITH DISTINCT parent
  MERGE (c)-[:CHILD_OF]->(parent)
}
CALL (c) {
  MATCH (c)<-[:PART_OF]-(:Account)<-[:SUBSIDIARY_OF]-(childAccount:Account)
  MATCH (childAccount)-[:PART_OF]->(child:Company)
  WITH DISTINCT child
  MERGE (child)-[:CHILD_OF]->(c)
}
