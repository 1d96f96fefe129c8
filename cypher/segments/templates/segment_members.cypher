// name: segments/templates/segment_members
// A page of a compiled rule's members in email order after $after, each with the evidence of every condition.
// mode: read
CALL () {
  /*ANCHOR*/
}
WITH p
WHERE ($after IS NULL OR p.email > $after) AND /*RESIDUAL*/
WITH p ORDER BY p.email LIMIT $first
RETURN p.email AS email, [
  /*EVIDENCE*/
] AS evidence
