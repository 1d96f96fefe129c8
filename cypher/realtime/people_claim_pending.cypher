// name: realtime/people_claim_pending
// Take up to $limit people and up to $limit companies marked for re-evaluation, removing the marks (inside the evaluating transaction), and every saved segment's rule to evaluate them against: one round trip.
// mode: write
CALL () {
  OPTIONAL MATCH (p:PendingEvaluation)
  WITH p LIMIT $limit
  REMOVE p:PendingEvaluation
  RETURN collect(p.email) AS emails
}
CALL () {
  OPTIONAL MATCH (c:PendingCompanyEvaluation)
  WITH c LIMIT $limit
  REMOVE c:PendingCompanyEvaluation
  RETURN collect(c.id) AS companyIds
}
RETURN emails, companyIds,
       CASE WHEN size(emails) + size(companyIds) = 0 THEN [] ELSE COLLECT {
         MATCH (s:Segment)
         RETURN s {.id, .name, .rule, .subject} AS segment ORDER BY s.name
       } END AS segments
