// name: ingest/account_people_delete
// Remove person-account associations of one source, by the source's account keys.
// mode: write
MATCH (s:Source {name: $source})
UNWIND $rows AS row
MATCH (a:Account)-[byKey:KNOWN_IN]->(s)
USING INDEX byKey:KNOWN_IN(sourceKey)
WHERE byKey.sourceKey = row.accountKey
MATCH (:Person {email: row.email})-[r:ASSOCIATED_WITH {source: $source}]->(a)
DELETE r
// A role may fill or empty a buying group: every person of the account's company is marked.
RETURN a {.source, .sourceKey} AS companyOf
