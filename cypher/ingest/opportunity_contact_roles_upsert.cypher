// name: ingest/opportunity_contact_roles_upsert
// Link people to opportunities, by the source's opportunity keys, with their contact role.
// mode: write
MATCH (s:Source {name: $source})
UNWIND $rows AS row
MATCH (p:Person {email: row.email})
MATCH (o:Opportunity)-[byKey:KNOWN_IN]->(s)
USING INDEX byKey:KNOWN_IN(sourceKey)
WHERE byKey.sourceKey = row.opportunityKey
MERGE (p)-[r:CONTACT_FOR]->(o)
  ON CREATE SET r.firstSeenAt = $seenAt
SET r.source = $source, r.role = row.role, r.isPrimary = coalesce(row.isPrimary, false), r.lastSeenAt = $seenAt
// A role may fill or empty a buying group: every person of the deal's company is marked.
WITH o
MATCH (o)<-[:HAS_OPPORTUNITY]-(holder:Account)
RETURN holder {.source, .sourceKey} AS companyOf
