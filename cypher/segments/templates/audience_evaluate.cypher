// name: segments/templates/audience_evaluate
// Evaluate a saved account audience and record the snapshot: which companies entered and which left since the last evaluation.
// mode: write
CALL () {
  CALL () {
    /*ANCHOR*/
  }
  WITH ac
  WHERE /*RESIDUAL*/
  RETURN collect(ac) AS members
}
MATCH (s:Segment {id: $segmentId})
CREATE (e:SegmentEvaluation {id: randomUUID(), at: datetime.realtime(), count: size(members)})-[:OF]->(s)
WITH s, e, members
CALL (s, e, members) {
  UNWIND members AS ac
  WITH ac WHERE NOT (ac)-[:IN_SEGMENT]->(s)
  CREATE (ac)-[:IN_SEGMENT {since: e.at}]->(s)
  CREATE (ac)-[:ENTERED {at: e.at}]->(e)
  RETURN count(ac) AS entered
}
CALL (s, e, members) {
  MATCH (ac:Company)-[m:IN_SEGMENT]->(s)
  WHERE NOT ac IN members
  DELETE m
  CREATE (ac)-[:LEFT {at: e.at}]->(e)
  RETURN count(ac) AS left
}
SET s.lastEvaluatedAt = e.at, s.memberCount = e.count, e.entered = entered, e.left = left
// The change feed's next position, taken last: its lock is held from here to the commit, so positions
// commit in the order they are given (see realtime/feed_read).
MERGE (feed:ChangeFeed {name: 'audience'})
SET feed.position = coalesce(feed.position, 0) + 1, e.position = feed.position
RETURN e {.id, .at, .count, .entered, .left, .position, enteredPeople: [], leftPeople: [],
          enteredCompanies: COLLECT { MATCH (ac:Company)-[:ENTERED]->(e) RETURN ac.id ORDER BY ac.id },
          leftCompanies: COLLECT { MATCH (ac:Company)-[:LEFT]->(e) RETURN ac.id ORDER BY ac.id }} AS evaluation
