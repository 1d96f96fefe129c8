// name: migrations/records_known_in
// Give accounts and opportunities written before synced copies their source's key (KNOWN_IN); run once.
// mode: write
OPTIONAL MATCH (done:Migration {name: 'records_known_in'})
WITH done
WHERE done IS NULL
CALL () {
  MATCH (x)
  WHERE (x:Account OR x:Opportunity) AND NOT (x)-[:KNOWN_IN]->()
  MERGE (s:Source {name: x.source})
  MERGE (x)-[known:KNOWN_IN {sourceKey: x.sourceKey}]->(s)
    ON CREATE SET known.firstSeenAt = x.firstSeenAt, known.lastSeenAt = x.lastSeenAt
} IN TRANSACTIONS OF 10000 ROWS
MERGE (:Migration {name: 'records_known_in'})
