// name: upsert_campaign_members
// Make people members of campaigns of one source, with their member status.
UNWIND $rows AS row
MATCH (p:Person {email: row.email})
MATCH (c:Campaign {source: $source, sourceKey: row.campaignKey})
MERGE (p)-[r:MEMBER_OF]->(c)
  ON CREATE SET r.firstSeenAt = $seenAt
SET r.source = $source, r.status = row.status, r.lastSeenAt = $seenAt
