// name: ingest/same_company_upsert
// Link two accounts that MDM says are the same company, keyed by the MDM link id; returns accounts to regroup.
// mode: write
UNWIND $rows AS row
// Each end by a key a source knows the account by, or by its identity (a synced copy's original,
// known through its copy): as ingest/accounts_known checked it.
CALL (row) {
  MATCH (a:Account)-[byKey:KNOWN_IN]->(:Source {name: row.sourceA})
  USING INDEX byKey:KNOWN_IN(sourceKey)
  WHERE byKey.sourceKey = row.keyA
  RETURN a
  UNION
  MATCH (a:Account {source: row.sourceA, sourceKey: row.keyA})
  RETURN a
}
CALL (row) {
  MATCH (b:Account)-[byKey:KNOWN_IN]->(:Source {name: row.sourceB})
  USING INDEX byKey:KNOWN_IN(sourceKey)
  WHERE byKey.sourceKey = row.keyB
  RETURN b
  UNION
  MATCH (b:Account {source: row.sourceB, sourceKey: row.keyB})
  RETURN b
}
CALL (row, a, b) {
  // The same link id now joining other accounts: the old link goes, and its ends are regrouped.
  OPTIONAL MATCH (x:Account)-[moved:SAME_COMPANY {mdmId: row.mdmId}]->(y:Account)
  WHERE x <> a OR y <> b
  DELETE moved
  RETURN collect(x {.source, .sourceKey}) + collect(y {.source, .sourceKey}) AS detached
}
// A link between a synced copy and its original joins one record to itself: nothing to link.
CALL (row, a, b) {
  WITH row, a, b
  WHERE a <> b
  MERGE (a)-[link:SAME_COMPANY {mdmId: row.mdmId}]->(b)
    ON CREATE SET link.firstSeenAt = $seenAt
  SET link.source = $source, link.lastSeenAt = $seenAt,
      link.updatedAt = CASE WHEN row.updatedAt IS NULL THEN null ELSE datetime({epochMillis: row.updatedAt}) END
}
RETURN [a {.source, .sourceKey}, b {.source, .sourceKey}] + detached AS regroup
