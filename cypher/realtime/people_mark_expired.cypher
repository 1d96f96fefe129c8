// name: realtime/people_mark_expired
// Mark people whose visits or won opportunities slid out of a rule's time window (or a buying-group member's engagement out of one), or whose visit stamped ahead came due, since the last sweep.
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
  SET company:PendingCompanyEvaluation  // for account audiences, a company without people too
  WITH DISTINCT company
  MATCH (company)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person)
  SET p:PendingEvaluation
}
CALL () {
  // A buying-group member's visit or campaign response left a rule's engagement window: every person
  // of the member's companies, whose group may have lost an engaged member.
  UNWIND $groupDays AS days
  CALL (days) {
    MATCH (member:Person)-[:VISITED]->(v:WebVisit)
    WHERE v.visitedAt >= $since - duration({days: days}) AND v.visitedAt < $now - duration({days: days})
    RETURN member
    UNION
    MATCH (member:Person)-[m:MEMBER_OF]->(:Campaign)
    WHERE m.firstSeenAt >= $since - duration({days: days}) AND m.firstSeenAt < $now - duration({days: days})
    RETURN member
  }
  CALL (member) {
    MATCH (member)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->(company:Company)
    RETURN company
    UNION
    MATCH (member)-[:CONTACT_FOR]->(:Opportunity)<-[:HAS_OPPORTUNITY]-(:Account)-[:PART_OF]->(company:Company)
    RETURN company
  }
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
