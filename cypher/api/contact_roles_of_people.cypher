// name: api/contact_roles_of_people
// Each person's contact roles on opportunities, with the opportunity, largest amount first.
// mode: read
UNWIND $emails AS email
MATCH (:Person {email: email})-[r:CONTACT_FOR]->(o:Opportunity)
WITH email, r, o ORDER BY o.amount IS NULL, o.amount DESC, o.source, o.sourceKey
RETURN email, collect({role: r.role, isPrimary: r.isPrimary,
                       opportunity: o {.source, .sourceKey, .name, .amount, .currency, .stage, .isWon, .isClosed,
                                       .closeDate}}) AS contactRoles
