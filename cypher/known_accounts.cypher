// name: known_accounts
// Which of these (source, sourceKey) accounts are already in the graph.
UNWIND $keys AS key
MATCH (:Account {source: key.source, sourceKey: key.sourceKey})
RETURN key
