// name: api/lists_by_key
// Marketing lists by (source, sourceKey).
// mode: read
UNWIND $keys AS key
MATCH (l:MarketingList {source: key.source, sourceKey: key.sourceKey})
RETURN key, l {.source, .sourceKey, .name} AS list
