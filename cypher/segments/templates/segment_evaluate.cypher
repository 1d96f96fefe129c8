// name: segments/templates/segment_evaluate
// Evaluate a saved segment and record the snapshot: who entered and who left since the last evaluation.
// mode: write
CALL () {
  CALL () {
    /*ANCHOR*/
  }
  WITH p
  WHERE /*RESIDUAL*/
  RETURN collect(p) AS members
}
MATCH (s:Segment {id: $segmentId})
CREATE (e:SegmentEvaluation {id: randomUUID(), at: datetime.realtime(), count: size(members)})-[:OF]->(s)
WITH s, e, members
CALL (s, e, members) {
  UNWIND members AS p
  WITH p WHERE NOT (p)-[:IN_SEGMENT]->(s)
  CREATE (p)-[:IN_SEGMENT {since: e.at}]->(s)
  CREATE (p)-[:ENTERED {at: e.at}]->(e)
  RETURN count(p) AS entered
}
CALL (s, e, members) {
  MATCH (p:Person)-[m:IN_SEGMENT]->(s)
  WHERE NOT p IN members
  DELETE m
  CREATE (p)-[:LEFT {at: e.at}]->(e)
  RETURN count(p) AS left
}
SET s.lastEvaluatedAt = e.at, s.memberCount = e.count, e.entered = entered, e.left = left
// The change feed's next position, taken last: its lock is held from here to the commit, so positions
// commit in the order they are given (see realtime/feed_read).
MERGE (feed:ChangeFeed {name: 'audience'})
SET feed.position = coalesce(feed.position, 0) + 1, e.position = feed.position
RETURN e {.id, .at, .count, .entered, .left, .position,
          enteredPeople: COLLECT { MATCH (p:Person)-[:ENTERED]->(e) RETURN p.email ORDER BY p.email },
          leftPeople: COLLECT { MATCH (p:Person)-[:LEFT]->(e) RETURN p.email ORDER BY p.email },
          enteredCompanies: [], leftCompanies: []} AS evaluation
