// name: ingest/parents_upsert
// MDM's corporate hierarchy: the child account's company is a subsidiary of the parent's, keyed by the MDM link id.
// mode: write
UNWIND $rows AS row
// Each end by a key a source knows the account by, or by its identity, as ingest/same_company_upsert.
CALL (row) {
  MATCH (child:Account)-[byKey:KNOWN_IN]->(:Source {name: row.sourceChild})
  USING INDEX byKey:KNOWN_IN(sourceKey)
  WHERE byKey.sourceKey = row.keyChild
  RETURN child
  UNION
  MATCH (child:Account {source: row.sourceChild, sourceKey: row.keyChild})
  RETURN child
}
CALL (row) {
  MATCH (parent:Account)-[byKey:KNOWN_IN]->(:Source {name: row.sourceParent})
  USING INDEX byKey:KNOWN_IN(sourceKey)
  WHERE byKey.sourceKey = row.keyParent
  RETURN parent
  UNION
  MATCH (parent:Account {source: row.sourceParent, sourceKey: row.keyParent})
  RETURN parent
}
CALL (row, child, parent) {
  // The same link id now naming other accounts: the old link goes.
  OPTIONAL MATCH (x:Account)-[moved:SUBSIDIARY_OF {mdmId: row.mdmId}]->(y:Account)
  WHERE x <> child OR y <> parent
  DELETE moved
  RETURN collect(x {.source, .sourceKey}) + collect(y {.source, .sourceKey}) AS detached
}
MERGE (child)-[link:SUBSIDIARY_OF {mdmId: row.mdmId}]->(parent)
  ON CREATE SET link.firstSeenAt = $seenAt
SET link.source = $source, link.lastSeenAt = $seenAt,
    link.updatedAt = CASE WHEN row.updatedAt IS NULL THEN null ELSE datetime({epochMillis: row.updatedAt}) END
WITH [child {.source, .sourceKey}, parent {.source, .sourceKey}] + detached AS keys
UNWIND keys AS key
RETURN key AS family
