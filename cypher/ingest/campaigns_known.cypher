// name: ingest/campaigns_known
// Which of these (source, sourceKey) campaigns are already in the graph.
// mode: read
UNWIND $keys AS key
MATCH (:Campaign {source: key.source, sourceKey: key.sourceKey})
RETURN key
