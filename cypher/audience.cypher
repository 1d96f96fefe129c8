// name: audience
// People of companies whose closed-won total across all SAME_COMPANY-linked accounts exceeds $minWon, who visited $page in the last $withinDays days.
MATCH (p:Person)-[:VISITED]->(v:WebVisit)
WHERE v.url = $page AND v.visitedAt >= datetime() - duration({days: $withinDays})
WITH p, collect(v {.source, .sourceKey, .url, .visitedAt}) AS visits
MATCH (p)-[:ASSOCIATED_WITH]->(a:Account)
CALL (a) {
  MATCH (a)-[:SAME_COMPANY*0..]-(member:Account)
  WITH DISTINCT member
  OPTIONAL MATCH (member)-[:HAS_OPPORTUNITY]->(won:Opportunity {isWon: true})
  WITH DISTINCT won
  RETURN sum(won.amount) AS companyWonTotal
}
WITH p, visits, a, companyWonTotal
WHERE companyWonTotal > $minWon
WITH p, visits,
     collect(a {.source, .sourceKey, .name, .industry, .country}) AS accounts,
     max(companyWonTotal) AS companyWonTotal
RETURN p.email AS email, companyWonTotal, accounts, visits
ORDER BY email
