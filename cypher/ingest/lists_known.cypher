// name: ingest/lists_known
// Which of these (source, sourceKey) lists are already in the graph.
// mode: read
UNWIND $keys AS key
MATCH (:MarketingList {source: key.source, sourceKey: key.sourceKey})
RETURN key
