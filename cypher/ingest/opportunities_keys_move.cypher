// name: ingest/opportunities_keys_move
// After an opportunity upsert: a source key that named another record (a sync unlinked or relinked) moves here.
// mode: write
// marks: people
// The source's contact roles move with the key; a record no source knows any more goes, and its
// account is returned so that its people are marked.
MATCH (s:Source {name: $source})
UNWIND $rows AS row
MATCH (o:Opportunity {source: coalesce(row.syncedFromSource, $source), sourceKey: coalesce(row.syncedFromKey, row.sourceKey)})
MATCH (old:Opportunity)-[stale:KNOWN_IN]->(s)
USING INDEX stale:KNOWN_IN(sourceKey)
WHERE stale.sourceKey = row.sourceKey AND old <> o
DELETE stale
WITH o, old
CALL (o, old) {
  MATCH (p:Person)-[said:CONTACT_FOR {source: $source}]->(old)
  MERGE (p)-[moved:CONTACT_FOR]->(o)
  SET moved += properties(said)
  DELETE said
}
WITH old
WHERE NOT (old)-[:KNOWN_IN]->()
OPTIONAL MATCH (holder:Account)-[:HAS_OPPORTUNITY]->(old)
DETACH DELETE old
WITH holder
WHERE holder IS NOT NULL
RETURN holder {.source, .sourceKey} AS touched
