// name: ingest/accounts_delete
// A source deletes its accounts (its key, links, opportunities there); returns accounts to regroup and refigure.
// mode: write
// marks: people
// A record no source knows any more goes, with the opportunities only it holds.
MATCH (s:Source {name: $source})
UNWIND $rows AS row
MATCH (a:Account)-[known:KNOWN_IN]->(s)
USING INDEX known:KNOWN_IN(sourceKey)
WHERE known.sourceKey = row.sourceKey
DELETE known
WITH s, a
CALL (a) {
  // Everyone of the company may lose the account's opportunities from the totals.
  MATCH (a)-[:PART_OF]->(company:Company)
  MATCH (company)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person)
  WHERE $mark
  SET p:PendingEvaluation
}
CALL (a) {
  MATCH (:Person)-[said:ASSOCIATED_WITH {source: $source}]->(a)
  DELETE said
}
CALL (a) {
  // The parent this source gave the account (its ParentId) goes with the source's record.
  MATCH (a)-[said:SUBSIDIARY_OF {source: $source}]->(:Account)
  WHERE said.mdmId IS NULL
  DELETE said
}
CALL (s, a) {
  // The source's opportunities of the account go with it (the others' copies of them stay).
  MATCH (a)-[:HAS_OPPORTUNITY]->(o:Opportunity)-[theirs:KNOWN_IN]->(s)
  DELETE theirs
  WITH DISTINCT o
  WHERE NOT (o)-[:KNOWN_IN]->()
  DETACH DELETE o
}
WITH a, a {.source, .sourceKey} AS key, EXISTS { (a)-[:KNOWN_IN]->() } AS stays
OPTIONAL CALL (a, stays) {
  WITH a
  WHERE NOT stays
  OPTIONAL MATCH (a)-[:SAME_COMPANY]-(neighbour:Account)
  WITH a, collect(DISTINCT neighbour {.source, .sourceKey}) AS regroup
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
    DETACH DELETE company  // with its account-audience memberships and their history
  }
  RETURN regroup
}
// An account that stays (known to another source) may have lost deals: its company's figures change.
// Its company's place in the corporate hierarchy is derived again (it may have lost a parent).
RETURN coalesce(regroup, []) AS regroup, CASE WHEN stays THEN key END AS touched, CASE WHEN stays THEN key END AS family
