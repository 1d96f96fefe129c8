// name: api/keys_of_accounts
// The id each source knows these accounts by (given by identity): the original's and every synced copy's.
// mode: read
UNWIND $keys AS key
MATCH (a:Account {source: key.source, sourceKey: key.sourceKey})
RETURN key, COLLECT { MATCH (a)-[k:KNOWN_IN]->(s:Source)
                      RETURN {source: s.name, sourceKey: k.sourceKey} ORDER BY s.name, k.sourceKey } AS knownAs
