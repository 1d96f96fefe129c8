// name: delete_opportunity_contact_roles
// Remove opportunity contact roles of one source.
UNWIND $rows AS row
MATCH (:Person {email: row.email})-[r:CONTACT_FOR]->(:Opportunity {source: $source, sourceKey: row.opportunityKey})
DELETE r
