// name: api/lists_of_people
// The marketing lists each person is on, by source and list id.
// mode: read
UNWIND $emails AS email
MATCH (:Person {email: email})-[:ON_LIST]->(l:MarketingList)
WITH email, l ORDER BY l.source, l.sourceKey
RETURN email, collect({list: l {.source, .sourceKey, .name}}) AS memberships
