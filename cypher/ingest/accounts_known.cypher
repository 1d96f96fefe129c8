// name: ingest/accounts_known
// Which of these (source, sourceKey) accounts are already in the graph.
// mode: read
UNWIND $keys AS key
MATCH (:Account {source: key.source, sourceKey: key.sourceKey})
RETURN key
