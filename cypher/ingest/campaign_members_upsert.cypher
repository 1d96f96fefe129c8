// name: ingest/campaign_members_upsert
// Make people members of campaigns of one source, with their member status.
// mode: write
UNWIND $rows AS row
MATCH (p:Person {email: row.email})
MATCH (c:Campaign {source: $source, sourceKey: row.campaignKey})
MERGE (p)-[r:MEMBER_OF]->(c)
  ON CREATE SET r.firstSeenAt = $seenAt
SET r.source = $source, r.status = row.status, r.lastSeenAt = $seenAt
