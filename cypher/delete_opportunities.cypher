// name: delete_opportunities
// Delete opportunities by (source, sourceKey).
UNWIND $rows AS row
MATCH (o:Opportunity {source: $source, sourceKey: row.sourceKey})
DETACH DELETE o
