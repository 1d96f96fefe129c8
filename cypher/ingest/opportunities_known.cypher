// name: ingest/opportunities_known
// Which of these (source, sourceKey) keys name opportunities already in the graph (a synced copy's own key included).
// mode: read
UNWIND $keys AS key
MATCH (:Opportunity)-[byKey:KNOWN_IN]->(:Source {name: key.source})
USING INDEX byKey:KNOWN_IN(sourceKey)
WHERE byKey.sourceKey = key.sourceKey
RETURN DISTINCT key
