// name: segments/entries_explain
// Keep with each entry of an evaluation ($id) the explanation of that moment ($explanations: email, explanation as JSON).
// mode: write
UNWIND $explanations AS entry
MATCH (:Person {email: entry.email})-[entered:ENTERED]->(e:SegmentEvaluation)
WHERE e.id = $id
SET entered.explanation = entry.explanation
RETURN count(entered) AS kept
