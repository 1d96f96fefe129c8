// name: segments/entries_explain
// Keep with each entry of an evaluation ($id) the explanation of that moment ($explanations: email of a person or companyId of a company, explanation as JSON).
// mode: write
UNWIND $explanations AS entry
CALL (entry) {
  MATCH (:Person {email: entry.email})-[entered:ENTERED]->(e:SegmentEvaluation)
  WHERE e.id = $id
  RETURN entered
  UNION
  MATCH (:Company {id: entry.companyId})-[entered:ENTERED]->(e:SegmentEvaluation)
  WHERE e.id = $id
  RETURN entered
}
SET entered.explanation = entry.explanation
RETURN count(entered) AS kept
