// name: segments/templates/audience_explain
// The evidence of every condition of an account audience's compiled rule for the given companies ($companyIds).
// mode: read
UNWIND $companyIds AS companyId
MATCH (ac:Company {id: companyId})
RETURN ac.id AS companyId, [
  /*EVIDENCE*/
] AS evidence
