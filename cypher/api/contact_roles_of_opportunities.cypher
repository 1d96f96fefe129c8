// name: api/contact_roles_of_opportunities
// The people with a contact role on each opportunity (by its identity, source and sourceKey), primary contact first.
// mode: read
UNWIND $keys AS key
MATCH (:Opportunity {source: key.source, sourceKey: key.sourceKey})<-[r:CONTACT_FOR]-(p:Person)
WITH key, r, p ORDER BY r.isPrimary DESC, p.email
RETURN key, collect({role: r.role, isPrimary: r.isPrimary,
                     person: p {.email, .firstName, .lastName, .title}}) AS contactRoles
