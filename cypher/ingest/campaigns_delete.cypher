// name: ingest/campaigns_delete
// Delete campaigns (and their memberships) by (source, sourceKey).
// mode: write
// marks: people
UNWIND $rows AS row
MATCH (c:Campaign {source: $source, sourceKey: row.sourceKey})
CALL (c) {
  MATCH (p:Person)-[:MEMBER_OF]->(c)
  WHERE $mark
  SET p:PendingEvaluation
}
DETACH DELETE c
