// name: people_by_email
// People by normalised email, with the id each source knows them by.
UNWIND $emails AS email
MATCH (p:Person {email: email})
RETURN email, p {.email, .firstName, .lastName, .title,
                 knownAs: [(p)-[k:KNOWN_IN]->(s:Source) | {source: s.name, sourceKey: k.sourceKey}]} AS person
