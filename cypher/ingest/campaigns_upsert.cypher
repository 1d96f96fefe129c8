// name: ingest/campaigns_upsert
// Upsert campaigns by (source, sourceKey).
// mode: write
UNWIND $rows AS row
MERGE (c:Campaign {source: $source, sourceKey: row.sourceKey})
  ON CREATE SET c.firstSeenAt = $seenAt
SET c.name = row.name, c.type = row.type, c.status = row.status, c.startDate = row.startDate,
    c.lastSeenAt = $seenAt
