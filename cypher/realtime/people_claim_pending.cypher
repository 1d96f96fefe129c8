// name: realtime/people_claim_pending
// Take up to $limit people marked for re-evaluation, removing the mark (inside the evaluating transaction).
// mode: write
MATCH (p:PendingEvaluation)
WITH p LIMIT $limit
REMOVE p:PendingEvaluation
RETURN p.email AS email
