// name: ingest/opportunity_contact_roles_delete
// Remove opportunity contact roles of one source, by the source's opportunity keys.
// mode: write
MATCH (s:Source {name: $source})
UNWIND $rows AS row
MATCH (o:Opportunity)-[byKey:KNOWN_IN]->(s)
USING INDEX byKey:KNOWN_IN(sourceKey)
WHERE byKey.sourceKey = row.opportunityKey
MATCH (:Person {email: row.email})-[r:CONTACT_FOR]->(o)
DELETE r
// A role may fill or empty a buying group: every person of the deal's company is marked.
WITH o
MATCH (o)<-[:HAS_OPPORTUNITY]-(holder:Account)
RETURN holder {.source, .sourceKey} AS companyOf
