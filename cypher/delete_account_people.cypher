// name: delete_account_people
// Remove person-account associations of one source.
UNWIND $rows AS row
MATCH (:Person {email: row.email})-[r:ASSOCIATED_WITH {source: $source}]->(:Account {source: $source, sourceKey: row.accountKey})
DELETE r
