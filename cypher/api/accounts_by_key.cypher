// name: api/accounts_by_key
// Accounts by any source's (source, sourceKey), a synced copy's own key included, with the id of their company.
// mode: read
UNWIND $keys AS key
MATCH (a:Account)-[byKey:KNOWN_IN]->(:Source {name: key.source})
USING INDEX byKey:KNOWN_IN(sourceKey)
WHERE byKey.sourceKey = key.sourceKey
OPTIONAL MATCH (a)-[:PART_OF]->(c:Company)
RETURN key, a {.source, .sourceKey, .name, .industry, .country, companyId: c.id} AS account
