// name: segments/templates/segment_explain
// The evidence of every condition of a compiled rule for the given people ($emails), as a member page gives it.
// mode: read
UNWIND $emails AS email
MATCH (p:Person {email: email})
RETURN p.email AS email, [
  /*EVIDENCE*/
] AS evidence
