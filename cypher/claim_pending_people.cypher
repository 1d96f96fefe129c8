// name: claim_pending_people
// Take up to $limit people marked for re-evaluation, removing the mark (inside the evaluating transaction).
MATCH (p:PendingEvaluation)
WITH p LIMIT $limit
REMOVE p:PendingEvaluation
RETURN p.email AS email
