// name: known_campaigns
// Which of these (source, sourceKey) campaigns are already in the graph.
UNWIND $keys AS key
MATCH (:Campaign {source: key.source, sourceKey: key.sourceKey})
RETURN key
