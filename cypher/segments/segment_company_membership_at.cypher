// name: segments/segment_company_membership_at
// Whether a company (by its people now) was in a saved segment at a moment ($at): each of its people who was a member then, with since, until and the explanation kept at entry.
// mode: read
MATCH (s:Segment {id: $segmentId})
OPTIONAL MATCH (c:Company {id: $companyId})
CALL (s, c) {
  OPTIONAL MATCH (c)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person)
  WITH DISTINCT p
  WHERE p IS NOT NULL
  CALL (s, p) {
    MATCH (p)-[change:ENTERED|LEFT]->(e:SegmentEvaluation)-[:OF]->(s)
    WHERE e.at <= $at
    WITH change, e ORDER BY e.at DESC, e.position DESC LIMIT 1
    RETURN type(change) AS last, e.at AS lastAt, change.explanation AS explanation
  }
  WITH s, p, lastAt, explanation WHERE last = 'ENTERED'
  CALL (s, p) {
    OPTIONAL MATCH (p)-[:LEFT]->(e:SegmentEvaluation)-[:OF]->(s)
    WHERE e.at > $at
    RETURN min(e.at) AS leftAt
  }
  WITH p, lastAt, explanation, leftAt ORDER BY p.email
  RETURN collect({email: p.email, since: lastAt, until: leftAt, explanation: explanation}) AS members
}
CALL (s) {
  MATCH (first:SegmentEvaluation)-[:OF]->(s)
  RETURN min(first.at) AS historyFrom
}
RETURN c IS NOT NULL AS known, members, historyFrom
