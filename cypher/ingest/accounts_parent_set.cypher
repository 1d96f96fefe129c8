// name: ingest/accounts_parent_set
// Set each account's parent as this source says (ParentId; none removes it); returns the accounts whose families to mark.
// mode: write
// The parent is an account this source knows by that key, or by its identity (as ingest/accounts_known checked it).
UNWIND $rows AS row
MATCH (child:Account {source: coalesce(row.syncedFromSource, $source), sourceKey: coalesce(row.syncedFromKey, row.sourceKey)})
OPTIONAL CALL (row) {
  MATCH (parent:Account)-[byKey:KNOWN_IN]->(:Source {name: $source})
  USING INDEX byKey:KNOWN_IN(sourceKey)
  WHERE byKey.sourceKey = row.parentKey
  RETURN parent
  UNION
  MATCH (parent:Account {source: $source, sourceKey: row.parentKey})
  RETURN parent
}
WITH child, collect(parent)[0] AS parent
CALL (child, parent) {
  // What this source said before about the account's parent, unless it says the same again.
  OPTIONAL MATCH (child)-[old:SUBSIDIARY_OF {source: $source}]->(was:Account)
  WHERE old.mdmId IS NULL AND (parent IS NULL OR was <> parent)
  DELETE old
  RETURN collect(was {.source, .sourceKey}) AS former
}
OPTIONAL CALL (child, parent) {
  WITH child, parent
  WHERE parent IS NOT NULL
  MERGE (child)-[link:SUBSIDIARY_OF {source: $source}]->(parent)
    ON CREATE SET link.firstSeenAt = $seenAt
  SET link.lastSeenAt = $seenAt
  RETURN link.firstSeenAt = $seenAt AS created
}
// Only a parent set, moved or removed changes the families: the rest of the rows return nothing.
WITH child, parent, former, created
WHERE coalesce(created, false) OR size(former) > 0
UNWIND [child {.source, .sourceKey}] + CASE WHEN parent IS NULL THEN [] ELSE [parent {.source, .sourceKey}] END + former
  AS key
RETURN key AS family
