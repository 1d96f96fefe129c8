// name: realtime/people_claim_pending
// Take up to $limit people marked for re-evaluation, removing the mark (inside the evaluating transaction), and every saved segment's rule to evaluate them against: one round trip.
// mode: write
OPTIONAL MATCH (p:PendingEvaluation)
WITH p LIMIT $limit
REMOVE p:PendingEvaluation
WITH collect(p.email) AS emails
RETURN emails,
       CASE WHEN size(emails) = 0 THEN [] ELSE COLLECT {
         MATCH (s:Segment)
         RETURN s {.id, .name, .rule} AS segment ORDER BY s.name
       } END AS segments
