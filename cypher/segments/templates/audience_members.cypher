// name: segments/templates/audience_members
// A page of an account audience's companies in id order after $after, each with the evidence of every condition.
// mode: read
CALL () {
  /*ANCHOR*/
}
WITH ac
WHERE ($after IS NULL OR ac.id > $after) AND /*RESIDUAL*/
WITH ac ORDER BY ac.id LIMIT $first
RETURN ac.id AS companyId, [
  /*EVIDENCE*/
] AS evidence
