// name: delete_list_members
// Remove marketing list memberships of one source.
UNWIND $rows AS row
MATCH (:Person {email: row.email})-[r:ON_LIST]->(:MarketingList {source: $source, sourceKey: row.listKey})
DELETE r
