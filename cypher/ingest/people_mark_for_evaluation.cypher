// name: ingest/people_mark_for_evaluation
// Mark the people a change can move in or out of segments: by email, and every person of the given accounts' companies' families; those companies too (for account audiences).
// mode: write
// marks: people
CALL () {
  UNWIND $emails AS email
  MATCH (p:Person {email: email})
  SET p:PendingEvaluation
}
CALL () {
  UNWIND $accounts AS key
  MATCH (:Account {source: key.source, sourceKey: key.sourceKey})-[:PART_OF]->(company:Company)
  // The company's corporate family, every company linked to it by the hierarchy (FAMILY and ULTIMATE
  // rules of its relatives read its deals and accounts).
  MATCH (company)-[:CHILD_OF*0..]-(relative:Company)
  WITH DISTINCT relative
  SET relative:PendingCompanyEvaluation
  WITH relative
  // A second MATCH: in one pattern the account's own PART_OF could not be walked back, missing its people.
  MATCH (relative)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person)
  SET p:PendingEvaluation
}
