// name: api/keys_of_opportunities
// The id each source knows these opportunities by (given by identity): the original's and every synced copy's.
// mode: read
UNWIND $keys AS key
MATCH (o:Opportunity {source: key.source, sourceKey: key.sourceKey})
RETURN key, COLLECT { MATCH (o)-[k:KNOWN_IN]->(s:Source)
                      RETURN {source: s.name, sourceKey: k.sourceKey} ORDER BY s.name, k.sourceKey } AS knownAs
