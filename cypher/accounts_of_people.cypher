// name: accounts_of_people
// The accounts each person is associated with, in every source, with the person's role.
UNWIND $emails AS email
MATCH (:Person {email: email})-[r:ASSOCIATED_WITH]->(a:Account)
WITH email, a, r ORDER BY a.source, a.sourceKey
RETURN email, collect(a {.source, .sourceKey, .name, .industry, .country, role: r.role}) AS accounts
