// name: api/campaigns_by_key
// Campaigns by (source, sourceKey).
// mode: read
UNWIND $keys AS key
MATCH (c:Campaign {source: key.source, sourceKey: key.sourceKey})
RETURN key, c {.source, .sourceKey, .name, .type, .status, .startDate} AS campaign
