// name: ingest/accounts_known
// Which of these (source, sourceKey) name an account in the graph: a key a source knows it by, or its identity.
// mode: read
UNWIND $keys AS key
CALL (key) {
  MATCH (a:Account)-[byKey:KNOWN_IN]->(:Source {name: key.source})
  USING INDEX byKey:KNOWN_IN(sourceKey)
  WHERE byKey.sourceKey = key.sourceKey
  RETURN a
  UNION
  // A synced copy's original, known through its copy before (or without) the original's own import.
  MATCH (a:Account {source: key.source, sourceKey: key.sourceKey})
  RETURN a
}
RETURN DISTINCT key
