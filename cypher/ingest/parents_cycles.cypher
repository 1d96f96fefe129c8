// name: ingest/parents_cycles
// The companies of these accounts that are their own ancestor (a cycle, or a parent in the same company): the guard after writing.
// mode: read
UNWIND $keys AS key
MATCH (:Account {source: key.source, sourceKey: key.sourceKey})-[:PART_OF]->(c:Company)
WITH DISTINCT c
MATCH (c)-[:CHILD_OF*0..]-(relative:Company)
WITH DISTINCT relative
WHERE EXISTS { MATCH (relative)-[:CHILD_OF*1..]->(relative) }
RETURN relative.id AS companyId
