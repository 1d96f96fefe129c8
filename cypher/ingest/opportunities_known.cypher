// name: ingest/opportunities_known
// Which of these (source, sourceKey) opportunities are already in the graph.
// mode: read
UNWIND $keys AS key
MATCH (:Opportunity {source: key.source, sourceKey: key.sourceKey})
RETURN key
