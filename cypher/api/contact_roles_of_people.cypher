// name: api/contact_roles_of_people
// Each person's contact roles on opportunities, with the opportunity and its account, largest amount first.
// mode: read
UNWIND $emails AS email
MATCH (:Person {email: email})-[r:CONTACT_FOR]->(o:Opportunity)
WITH email, r, o ORDER BY o.amount IS NULL, o.amount DESC, o.source, o.sourceKey
RETURN email, collect({role: r.role, isPrimary: r.isPrimary,
                       opportunity: o {.source, .sourceKey, .name, .amount, .currency, .stage, .isWon, .isClosed,
                                       .closeDate,
                                       knownAs: COLLECT { MATCH (o)-[k:KNOWN_IN]->(s:Source)
                                                          RETURN {source: s.name, sourceKey: k.sourceKey}
                                                          ORDER BY s.name, k.sourceKey },
                                       account: COLLECT { MATCH (a:Account)-[:HAS_OPPORTUNITY]->(o)
                                                          OPTIONAL MATCH (a)-[:PART_OF]->(co:Company)
                                                          RETURN a {.source, .sourceKey, .name, .industry, .country,
                                                                    companyId: co.id}
                                                          ORDER BY a.source, a.sourceKey }[0]}}) AS contactRoles
