// name: api/people_by_email
// People by normalised email, with the id each source knows them by and their accounts (as accounts_of_people has them).
// mode: read
UNWIND $emails AS email
MATCH (p:Person {email: email})
RETURN email, p {.email, .firstName, .lastName, .title,
                 knownAs: [(p)-[k:KNOWN_IN]->(s:Source) | {source: s.name, sourceKey: k.sourceKey}],
                 accounts: COLLECT { MATCH (p)-[r:ASSOCIATED_WITH]->(a:Account)
                                     OPTIONAL MATCH (a)-[:PART_OF]->(c:Company)
                                     WITH a, r, c ORDER BY a.source, a.sourceKey
                                     RETURN a {.source, .sourceKey, .name, .industry, .country, role: r.role, companyId: c.id} }
                } AS person
