// name: api/families_of_companies
// Each company's family figures, each deal once: FAMILY (it and every company under it), ULTIMATE (everything under its ultimate parents).
// mode: read
UNWIND $ids AS id
MATCH (c:Company {id: id})
CALL (c) {
  MATCH (c)-[:CHILD_OF*0..]->(top:Company)
  WHERE NOT (top)-[:CHILD_OF]->(:Company)
  RETURN collect(DISTINCT top) AS tops
}
UNWIND [{scope: 'FAMILY', roots: [c]}, {scope: 'ULTIMATE', roots: tops}] AS scoped
CALL (scoped) {
  UNWIND scoped.roots AS root
  MATCH (root)<-[:CHILD_OF*0..]-(member:Company)
  WITH collect(DISTINCT member) AS members
  WITH members, COLLECT { UNWIND members AS m
                          MATCH (m)<-[:PART_OF]-(:Account)-[:HAS_OPPORTUNITY]->(o:Opportunity)
                          RETURN DISTINCT o } AS deals
  RETURN COLLECT { UNWIND members AS m RETURN m.id AS mid ORDER BY mid } AS companyIds,
         reduce(total = 0.0, o IN deals | total + CASE WHEN o.isWon THEN o.amount ELSE 0.0 END) AS wonTotal,
         reduce(total = 0.0, o IN deals | total + CASE WHEN o.isClosed THEN 0.0 ELSE o.amount END) AS openPipeline,
         size(deals) AS opportunityCount
}
RETURN id, scoped.scope AS scope, companyIds, wonTotal, openPipeline, opportunityCount
