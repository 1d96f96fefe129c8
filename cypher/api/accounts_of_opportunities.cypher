// name: api/accounts_of_opportunities
// The account holding each opportunity (given by identity), with the id of its company.
// mode: read
UNWIND $keys AS key
MATCH (:Opportunity {source: key.source, sourceKey: key.sourceKey})<-[:HAS_OPPORTUNITY]-(a:Account)
OPTIONAL MATCH (a)-[:PART_OF]->(c:Company)
WITH key, a, c ORDER BY a.source, a.sourceKey
RETURN key, collect(a {.source, .sourceKey, .name, .industry, .country, companyId: c.id})[0] AS account
