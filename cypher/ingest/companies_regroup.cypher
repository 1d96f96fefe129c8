// name: ingest/companies_regroup
// Recompute the Company of the given accounts from SAME_COMPANY links, the source of truth; drop emptied companies.
// mode: write
UNWIND $keys AS key
MATCH (a:Account {source: key.source, sourceKey: key.sourceKey})
CALL (a) {
  MATCH (a)-[:SAME_COMPANY*0..]-(member:Account)
  WITH collect(DISTINCT member) AS members, min(member.source + '/' + member.sourceKey) AS id
  MERGE (company:Company {id: id})
  WITH members, company
  UNWIND members AS member
  OPTIONAL MATCH (member)-[old:PART_OF]->(previous:Company)
  WHERE previous <> company
  DELETE old
  MERGE (member)-[:PART_OF]->(company)
  WITH DISTINCT previous
  WHERE previous IS NOT NULL AND NOT (previous)<-[:PART_OF]-()
  DETACH DELETE previous
}
