// name: delete_campaigns
// Delete campaigns (and their memberships) by (source, sourceKey).
UNWIND $rows AS row
MATCH (c:Campaign {source: $source, sourceKey: row.sourceKey})
DETACH DELETE c
