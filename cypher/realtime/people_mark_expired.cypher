// name: realtime/people_mark_expired
// Mark people whose visits or won opportunities slid out of a rule's time window, or whose visit stamped ahead came due, since the last sweep.
// mode: write
// marks: people
CALL () {
  UNWIND $visitDays AS days
  MATCH (v:WebVisit)
  WHERE v.visitedAt >= $since - duration({days: days}) AND v.visitedAt < $now - duration({days: days})
  MATCH (p:Person)-[:VISITED]->(v)
  SET p:PendingEvaluation
}
CALL () {
  UNWIND $closeDays AS days
  MATCH (o:Opportunity)
  WHERE o.closeDate >= date($since - duration({days: days})) AND o.closeDate < date($now - duration({days: days}))
  MATCH (o)<-[:HAS_OPPORTUNITY]-(:Account)-[:PART_OF]->(company:Company)
  MATCH (company)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person)
  SET p:PendingEvaluation
}
CALL () {
  // A visit recorded before its own time (the sender's clock ahead, within CLOCK_SKEW_SECONDS) counts once due.
  MATCH (v:WebVisit)
  WHERE v.visitedAt >= $since AND v.visitedAt < $now AND v.firstSeenAt < v.visitedAt
  MATCH (p:Person)-[:VISITED]->(v)
  SET p:PendingEvaluation
}
MERGE (sweep:Sweep {name: 'expiry'})
SET sweep.at = $now
