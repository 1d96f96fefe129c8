// name: segments/segment_membership_at
// Whether a person ($email), or a company in an account audience ($companyId), was in a saved segment at a moment ($at), from its history: the last entry or exit at or before it, the next exit, and how far back the history goes.
// mode: read
MATCH (s:Segment {id: $segmentId})
OPTIONAL MATCH (person:Person {email: $email})
OPTIONAL MATCH (company:Company {id: $companyId})
WITH s, coalesce(person, company) AS p
CALL (s, p) {
  OPTIONAL MATCH (p)-[change:ENTERED|LEFT]->(e:SegmentEvaluation)-[:OF]->(s)
  WHERE e.at <= $at
  WITH change, e ORDER BY e.at DESC, e.position DESC LIMIT 1
  RETURN type(change) AS last, e.at AS lastAt, change.explanation AS explanation
}
CALL (s, p) {
  OPTIONAL MATCH (p)-[:LEFT]->(e:SegmentEvaluation)-[:OF]->(s)
  WHERE e.at > $at
  RETURN min(e.at) AS leftAt
}
CALL (s) {
  MATCH (first:SegmentEvaluation)-[:OF]->(s)
  RETURN min(first.at) AS historyFrom
}
RETURN s.name AS segment, p IS NOT NULL AS known, last, lastAt, explanation, leftAt, historyFrom
