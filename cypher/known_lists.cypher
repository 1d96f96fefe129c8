// name: known_lists
// Which of these (source, sourceKey) lists are already in the graph.
UNWIND $keys AS key
MATCH (:MarketingList {source: key.source, sourceKey: key.sourceKey})
RETURN key
