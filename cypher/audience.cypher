// name: audience
// People of companies whose closed-won total across all their accounts exceeds $minWon, who visited $page in the last $withinDays days.
MATCH (p:Person)-[:VISITED]->(v:WebVisit)
WHERE v.url = $page AND v.visitedAt >= datetime() - duration({days: $withinDays})
WITH p, collect(v {.source, .sourceKey, .url, .visitedAt}) AS visits
MATCH (p)-[:ASSOCIATED_WITH]->(a:Account)-[:PART_OF]->(c:Company)
WITH p, visits, c, collect(a {.source, .sourceKey, .name, .industry, .country, companyId: c.id}) AS accounts
CALL (c) {
  MATCH (c)<-[:PART_OF]-(:Account)-[:HAS_OPPORTUNITY]->(won:Opportunity)
  WHERE won.isWon
  WITH DISTINCT won
  RETURN sum(won.amount) AS companyWonTotal
}
WITH p, visits, accounts, companyWonTotal
WHERE companyWonTotal > $minWon
WITH p, visits, collect(accounts) AS accountLists, max(companyWonTotal) AS companyWonTotal
RETURN p.email AS email, companyWonTotal, visits,
       reduce(all = [], accounts IN accountLists | all + accounts) AS accounts
ORDER BY email
