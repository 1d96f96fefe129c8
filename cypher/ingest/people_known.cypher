// name: ingest/people_known
// Which of these person ids the source already knows, with the person's email.
// mode: read
UNWIND $keys AS key
// Seek the id in the relationship index: a source node has a relationship per person it knows.
MATCH (p:Person)-[known:KNOWN_IN]->(s:Source)
USING INDEX known:KNOWN_IN(sourceKey)
WHERE known.sourceKey = key.sourceKey AND s.name = key.source
RETURN key, p.email AS email
