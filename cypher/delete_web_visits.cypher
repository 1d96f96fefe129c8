// name: delete_web_visits
// Delete web visits by (source, sourceKey).
UNWIND $rows AS row
MATCH (v:WebVisit {source: $source, sourceKey: row.sourceKey})
DETACH DELETE v
