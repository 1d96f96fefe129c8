// name: ingest/list_members_delete
// Remove marketing list memberships of one source.
// mode: write
UNWIND $rows AS row
MATCH (:Person {email: row.email})-[r:ON_LIST]->(:MarketingList {source: $source, sourceKey: row.listKey})
DELETE r
