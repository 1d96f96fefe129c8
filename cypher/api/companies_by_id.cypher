// name: api/companies_by_id
// Companies with their accounts, closed-won total, open pipeline and opportunity count (each opportunity once).
// mode: read
UNWIND $ids AS id
MATCH (c:Company {id: id})
CALL (c) {
  MATCH (c)<-[:PART_OF]-(member:Account)
  OPTIONAL MATCH (member)-[:HAS_OPPORTUNITY]->(o:Opportunity)
  WITH collect(DISTINCT member {.source, .sourceKey, .name, .industry, .country, companyId: c.id}) AS accounts,
       collect(DISTINCT o) AS opportunities
  RETURN accounts,
         reduce(total = 0.0, o IN opportunities | total + CASE WHEN o.isWon THEN o.amount ELSE 0.0 END) AS wonTotal,
         reduce(total = 0.0, o IN opportunities | total + CASE WHEN o.isClosed THEN 0.0 ELSE o.amount END) AS openPipeline,
         size(opportunities) AS opportunityCount
}
RETURN id, accounts, wonTotal, openPipeline, opportunityCount
