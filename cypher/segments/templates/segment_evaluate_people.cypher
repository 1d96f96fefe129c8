// name: segments/templates/segment_evaluate_people
// Re-evaluate one saved segment for the given people only; record who entered and who left.
// mode: write
MATCH (s:Segment {id: $segmentId})
UNWIND $emails AS email
MATCH (p:Person {email: email})
WITH s, p, /*PREDICATE*/ AS qualifies, EXISTS { (p)-[:IN_SEGMENT]->(s) } AS was
WITH s, collect(CASE WHEN qualifies AND NOT was THEN p END) AS entering,
        collect(CASE WHEN was AND NOT qualifies THEN p END) AS leaving
WHERE size(entering) + size(leaving) > 0
CREATE (e:SegmentEvaluation {id: randomUUID(), at: datetime.realtime(), incremental: true,
                             entered: size(entering), left: size(leaving)})-[:OF]->(s)
FOREACH (p IN entering | CREATE (p)-[:IN_SEGMENT {since: e.at}]->(s) CREATE (p)-[:ENTERED {at: e.at}]->(e))
FOREACH (p IN leaving | CREATE (p)-[:LEFT {at: e.at}]->(e))
WITH s, e, entering, leaving
CALL (s, leaving) {
  UNWIND leaving AS p
  MATCH (p)-[m:IN_SEGMENT]->(s)
  DELETE m
}
SET e.count = COUNT { (s)<-[:IN_SEGMENT]-() }, s.memberCount = e.count, s.lastEvaluatedAt = e.at
// The change feed's next position, taken last: its lock is held from here to the commit, so positions
// commit in the order they are given (see realtime/feed_read).
MERGE (feed:ChangeFeed {name: 'audience'})
SET feed.position = coalesce(feed.position, 0) + 1, e.position = feed.position
RETURN e.id AS id, e.position AS position, e.at AS at, [p IN entering | p.email] AS entered, [p IN leaving | p.email] AS left
