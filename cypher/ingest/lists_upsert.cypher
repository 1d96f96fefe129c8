// name: ingest/lists_upsert
// Upsert marketing (static) lists by (source, sourceKey).
// mode: write
UNWIND $rows AS row
MERGE (l:MarketingList {source: $source, sourceKey: row.sourceKey})
  ON CREATE SET l.firstSeenAt = $seenAt
SET l.name = row.name, l.lastSeenAt = $seenAt
