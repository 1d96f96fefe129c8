// name: ingest/accounts_companies
// The account each (source, sourceKey) names (a key a source knows it by, or its identity) and its company.
// mode: read
UNWIND $keys AS key
CALL (key) {
  MATCH (a:Account)-[byKey:KNOWN_IN]->(:Source {name: key.source})
  USING INDEX byKey:KNOWN_IN(sourceKey)
  WHERE byKey.sourceKey = key.sourceKey
  RETURN a
  UNION
  MATCH (a:Account {source: key.source, sourceKey: key.sourceKey})
  RETURN a
}
MATCH (a)-[:PART_OF]->(c:Company)
RETURN key, a {.source, .sourceKey} AS account, c.id AS companyId
