// name: ingest/people_upsert
// Upsert people by normalised email; record the id and the consent (email, advertising) each source has for them.
// mode: write
MERGE (s:Source {name: $source})
WITH s
UNWIND $rows AS row
MERGE (p:Person {email: row.email})
  ON CREATE SET p.firstSeenAt = $seenAt
SET p.firstName = coalesce(row.firstName, p.firstName),
    p.lastName = coalesce(row.lastName, p.lastName),
    p.title = coalesce(row.title, p.title),
    p.lastSeenAt = $seenAt
MERGE (p)-[known:KNOWN_IN]->(s)
  ON CREATE SET known.firstSeenAt = $seenAt
SET known.sourceKey = row.sourceKey, known.unsubscribed = coalesce(row.unsubscribed, false),
    known.advertisingOptOut = coalesce(row.advertisingOptOut, false),
    known.syncedFromSource = row.syncedFromSource, known.syncedFromKey = row.syncedFromKey,
    known.lastSeenAt = $seenAt
WITH p, s, row
// The source's id now names this person (their email changed there): the older person loses the
// id, and goes if no source knows them any more.
OPTIONAL MATCH (other:Person)-[stale:KNOWN_IN]->(s)
USING INDEX stale:KNOWN_IN(sourceKey)
WHERE stale.sourceKey = row.sourceKey AND other <> p
DELETE stale
WITH other
WHERE other IS NOT NULL AND NOT (other)-[:KNOWN_IN]->()
OPTIONAL MATCH (other)-[:VISITED]->(visit:WebVisit)
DETACH DELETE visit, other
