// name: ingest_people
// Upsert people by normalised email and record the id each source knows them by.
MERGE (s:Source {name: $source})
WITH s
UNWIND $rows AS row
MERGE (p:Person {email: row.email})
SET p.firstName = coalesce(row.firstName, p.firstName),
    p.lastName = coalesce(row.lastName, p.lastName),
    p.title = coalesce(row.title, p.title)
MERGE (p)-[known:KNOWN_IN]->(s)
SET known.sourceKey = row.sourceKey
