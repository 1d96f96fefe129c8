// name: accounts_by_key
// Accounts by (source, sourceKey).
UNWIND $keys AS key
MATCH (a:Account {source: key.source, sourceKey: key.sourceKey})
RETURN key, a {.source, .sourceKey, .name, .industry, .country} AS account
