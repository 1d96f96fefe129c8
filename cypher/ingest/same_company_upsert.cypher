// name: ingest/same_company_upsert
// Link two accounts that MDM says are the same company, keyed by the MDM link id; returns accounts to regroup.
// mode: write
UNWIND $rows AS row
MATCH (a:Account {source: row.sourceA, sourceKey: row.keyA})
MATCH (b:Account {source: row.sourceB, sourceKey: row.keyB})
CALL (row, a, b) {
  // The same link id now joining other accounts: the old link goes, and its ends are regrouped.
  OPTIONAL MATCH (x:Account)-[moved:SAME_COMPANY {mdmId: row.mdmId}]->(y:Account)
  WHERE x <> a OR y <> b
  DELETE moved
  RETURN collect(x {.source, .sourceKey}) + collect(y {.source, .sourceKey}) AS detached
}
MERGE (a)-[link:SAME_COMPANY {mdmId: row.mdmId}]->(b)
  ON CREATE SET link.firstSeenAt = $seenAt
SET link.source = $source, link.lastSeenAt = $seenAt,
    link.updatedAt = CASE WHEN row.updatedAt IS NULL THEN null ELSE datetime({epochMillis: row.updatedAt}) END
RETURN [a {.source, .sourceKey}, b {.source, .sourceKey}] + detached AS regroup
