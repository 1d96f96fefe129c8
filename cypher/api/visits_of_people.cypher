// name: api/visits_of_people
// Each person's web visits, newest first.
// mode: read
UNWIND $emails AS email
MATCH (:Person {email: email})-[:VISITED]->(v:WebVisit)
WITH email, v ORDER BY v.visitedAt DESC
RETURN email, collect(v {.source, .sourceKey, .url, .visitedAt}) AS visits
