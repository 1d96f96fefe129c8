// name: companies_of_accounts
// Each account's company: every account reachable over SAME_COMPANY (any chain length), with closed-won and open totals.
UNWIND $keys AS key
MATCH (a:Account {source: key.source, sourceKey: key.sourceKey})
CALL (a) {
  MATCH (a)-[:SAME_COMPANY*0..]-(member:Account)
  WITH DISTINCT member ORDER BY member.source, member.sourceKey
  OPTIONAL MATCH (member)-[:HAS_OPPORTUNITY]->(o:Opportunity)
  WITH collect(DISTINCT member {.source, .sourceKey, .name, .industry, .country}) AS accounts,
       collect(DISTINCT o) AS opportunities
  RETURN accounts,
         reduce(total = 0.0, o IN opportunities | total + CASE WHEN o.isWon THEN o.amount ELSE 0.0 END) AS wonTotal,
         reduce(total = 0.0, o IN opportunities | total + CASE WHEN o.isClosed THEN 0.0 ELSE o.amount END) AS openPipeline,
         size(opportunities) AS opportunityCount
}
RETURN key, accounts, wonTotal, openPipeline, opportunityCount
