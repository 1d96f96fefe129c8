// name: api/accounts_of_people
// The accounts each person is associated with, in every source, with the person's role and the company id.
// mode: read
UNWIND $emails AS email
MATCH (:Person {email: email})-[r:ASSOCIATED_WITH]->(a:Account)
OPTIONAL MATCH (a)-[:PART_OF]->(c:Company)
WITH email, a, r, c ORDER BY a.source, a.sourceKey
RETURN email, collect(a {.source, .sourceKey, .name, .industry, .country, role: r.role, companyId: c.id}) AS accounts
