// name: ingest/opportunity_contact_roles_delete
// Remove opportunity contact roles of one source.
// mode: write
UNWIND $rows AS row
MATCH (:Person {email: row.email})-[r:CONTACT_FOR]->(:Opportunity {source: $source, sourceKey: row.opportunityKey})
DELETE r
