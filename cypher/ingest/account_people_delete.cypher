// name: ingest/account_people_delete
// Remove person-account associations of one source.
// mode: write
UNWIND $rows AS row
MATCH (:Person {email: row.email})-[r:ASSOCIATED_WITH {source: $source}]->(:Account {source: $source, sourceKey: row.accountKey})
DELETE r
