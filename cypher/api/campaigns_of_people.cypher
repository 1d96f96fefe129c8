// name: api/campaigns_of_people
// The campaigns each person is a member of, with their member status, by source and campaign id.
// mode: read
UNWIND $emails AS email
MATCH (:Person {email: email})-[m:MEMBER_OF]->(c:Campaign)
WITH email, m, c ORDER BY c.source, c.sourceKey
RETURN email, collect({status: m.status,
                       campaign: c {.source, .sourceKey, .name, .type, .status, .startDate}}) AS memberships
