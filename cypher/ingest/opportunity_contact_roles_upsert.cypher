// name: ingest/opportunity_contact_roles_upsert
// Link people to opportunities of one source with their contact role.
// mode: write
UNWIND $rows AS row
MATCH (p:Person {email: row.email})
MATCH (o:Opportunity {source: $source, sourceKey: row.opportunityKey})
MERGE (p)-[r:CONTACT_FOR]->(o)
  ON CREATE SET r.firstSeenAt = $seenAt
SET r.source = $source, r.role = row.role, r.isPrimary = coalesce(row.isPrimary, false), r.lastSeenAt = $seenAt
