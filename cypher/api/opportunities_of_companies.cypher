// name: api/opportunities_of_companies
// Pages of companies' opportunities (of all their accounts, each once) by status, largest first, with their count.
// mode: read
UNWIND $requests AS request
MATCH (c:Company {id: request.id})
CALL (c, request) {
  MATCH (c)<-[:PART_OF]-(:Account)-[:HAS_OPPORTUNITY]->(o:Opportunity)
  WHERE CASE request.status WHEN 'WON' THEN o.isWon
                            WHEN 'LOST' THEN o.isClosed AND NOT o.isWon
                            WHEN 'OPEN' THEN NOT o.isClosed
                            ELSE true END
  RETURN collect(DISTINCT o) AS matching
}
WITH request, matching, request.after AS after
// The order: amount descending (no amount last), then source and sourceKey; a page starts after the cursor's key.
WITH request, size(matching) AS totalCount, COLLECT {
  UNWIND matching AS o
  WITH o, after
  WHERE after IS NULL
     OR (o.amount IS NULL AND (after.amount IS NOT NULL OR o.source > after.source
                               OR (o.source = after.source AND o.sourceKey > after.sourceKey)))
     OR o.amount < after.amount
     OR (o.amount = after.amount AND (o.source > after.source
                                      OR (o.source = after.source AND o.sourceKey > after.sourceKey)))
  WITH o ORDER BY o.amount IS NULL, o.amount DESC, o.source, o.sourceKey
  RETURN o
}[..request.first] AS page
RETURN request.index AS index, totalCount,
       [o IN page | o {.source, .sourceKey, .name, .amount, .currency, .stage, .isWon, .isClosed,
                       .closeDate}] AS opportunities
