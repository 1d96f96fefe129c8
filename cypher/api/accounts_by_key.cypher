// name: api/accounts_by_key
// Accounts by (source, sourceKey), with the id of their company.
// mode: read
UNWIND $keys AS key
MATCH (a:Account {source: key.source, sourceKey: key.sourceKey})
OPTIONAL MATCH (a)-[:PART_OF]->(c:Company)
RETURN key, a {.source, .sourceKey, .name, .industry, .country, companyId: c.id} AS account
