// name: segments/templates/segment_companies
// The account audience of a compiled rule: companies with members, their member count and totals.
// mode: read
CALL () {
  /*ANCHOR*/
}
WITH p
WHERE /*RESIDUAL*/
MATCH (p)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->(c:Company)
WITH c, count(DISTINCT p) AS members
ORDER BY members DESC, c.id
LIMIT $first
RETURN c.id AS companyId, members
