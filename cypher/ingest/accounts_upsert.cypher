// name: ingest/accounts_upsert
// Upsert accounts, a synced copy as one record with its original; returns accounts to mark and to regroup.
// mode: write
// marks: people
MERGE (s:Source {name: $source})
WITH s
UNWIND $rows AS row
// The record's identity: the original's key for a synced copy, the row's own key otherwise.
MERGE (a:Account {source: coalesce(row.syncedFromSource, $source), sourceKey: coalesce(row.syncedFromKey, row.sourceKey)})
  ON CREATE SET a.firstSeenAt = $seenAt
MERGE (a)-[known:KNOWN_IN {sourceKey: row.sourceKey}]->(s)
  ON CREATE SET known.firstSeenAt = $seenAt
SET known.lastSeenAt = $seenAt, a.lastSeenAt = $seenAt
// Field conflicts (docs/import-format.md): the system of record wins for every value it gives; a copy's
// values stand while the original is unknown, and fill what the original leaves empty.
WITH s, row, a, a.source = $source AS ofRecord,
     EXISTS { (a)-[:KNOWN_IN]->(other:Source) WHERE other.name <> $source } AS elsewhere,
     EXISTS { (a)-[:KNOWN_IN]->(:Source {name: a.source}) } AS originalKnown
WITH s, row, a,
     CASE WHEN ofRecord OR NOT originalKnown THEN row ELSE properties(a) END AS winner,
     CASE WHEN ofRecord AND elsewhere THEN properties(a) WHEN ofRecord OR NOT originalKnown THEN {} ELSE row END AS fallback
SET a.name = coalesce(winner.name, fallback.name), a.industry = coalesce(winner.industry, fallback.industry),
    a.country = coalesce(winner.country, fallback.country), a.employees = coalesce(winner.employees, fallback.employees),
    a.website = coalesce(winner.website, fallback.website)
WITH s, row, a
CALL (a) {
  WITH a
  WHERE NOT (a)-[:PART_OF]->(:Company)
  MERGE (c:Company {id: a.source + '/' + a.sourceKey})
  MERGE (a)-[:PART_OF]->(c)
}
// The sync changed (a copy stopped naming its original, or names another): the source's key, and what
// the source said through it, move to this record; a record no source knows any more goes.
CALL (s, row, a) {
  OPTIONAL MATCH (old:Account)-[stale:KNOWN_IN]->(s)
  USING INDEX stale:KNOWN_IN(sourceKey)
  WHERE stale.sourceKey = row.sourceKey AND old <> a
  DELETE stale
  WITH a, old
  CALL (a, old) {
    MATCH (p:Person)-[said:ASSOCIATED_WITH {source: $source}]->(old)
    MERGE (p)-[moved:ASSOCIATED_WITH]->(a)
    SET moved += properties(said)
    DELETE said
  }
  CALL (a, old) {
    MATCH (old)-[said:HAS_OPPORTUNITY {source: $source}]->(o:Opportunity)
    MERGE (a)-[moved:HAS_OPPORTUNITY]->(o)
    SET moved += properties(said)
    DELETE said
  }
  CALL (old) {
    MATCH (old)-[:PART_OF]->(:Company)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person)
    WHERE $mark
    SET p:PendingEvaluation
  }
  WITH old
  WHERE old IS NOT NULL AND NOT (old)-[:KNOWN_IN]->()
  OPTIONAL MATCH (old)-[:SAME_COMPANY]-(neighbour:Account)
  OPTIONAL MATCH (old)-[:PART_OF]->(company:Company)
  WITH old, company, collect(DISTINCT neighbour {.source, .sourceKey}) AS neighbours
  DETACH DELETE old
  WITH company, neighbours
  CALL (company) {
    WITH company
    WHERE company IS NOT NULL AND NOT (company)<-[:PART_OF]-()
    DELETE company
  }
  RETURN reduce(all = [], n IN collect(neighbours) | all + n) AS regroup
}
RETURN a {.source, .sourceKey} AS touched, regroup
