// name: known_people
// Which of these person ids the source already knows, with the person's email.
UNWIND $keys AS key
MATCH (p:Person)-[:KNOWN_IN {sourceKey: key.sourceKey}]->(:Source {name: key.source})
RETURN key, p.email AS email
