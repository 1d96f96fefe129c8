// name: known_opportunities
// Which of these (source, sourceKey) opportunities are already in the graph.
UNWIND $keys AS key
MATCH (:Opportunity {source: key.source, sourceKey: key.sourceKey})
RETURN key
