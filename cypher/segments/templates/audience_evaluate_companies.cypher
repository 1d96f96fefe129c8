// name: segments/templates/audience_evaluate_companies
// Re-evaluate one saved account audience for the given companies only; record which entered and which left.
// mode: write
MATCH (s:Segment {id: $segmentId})
UNWIND $companyIds AS companyId
MATCH (ac:Company {id: companyId})
WITH s, ac, /*PREDICATE*/ AS qualifies, EXISTS { (ac)-[:IN_SEGMENT]->(s) } AS was
WITH s, collect(CASE WHEN qualifies AND NOT was THEN ac END) AS entering,
        collect(CASE WHEN was AND NOT qualifies THEN ac END) AS leaving
WHERE size(entering) + size(leaving) > 0
CREATE (e:SegmentEvaluation {id: randomUUID(), at: datetime.realtime(), incremental: true,
                             entered: size(entering), left: size(leaving)})-[:OF]->(s)
FOREACH (ac IN entering | CREATE (ac)-[:IN_SEGMENT {since: e.at}]->(s) CREATE (ac)-[:ENTERED {at: e.at}]->(e))
FOREACH (ac IN leaving | CREATE (ac)-[:LEFT {at: e.at}]->(e))
WITH s, e, entering, leaving
CALL (s, leaving) {
  UNWIND leaving AS ac
  MATCH (ac)-[m:IN_SEGMENT]->(s)
  DELETE m
}
SET e.count = COUNT { (s)<-[:IN_SEGMENT]-() }, s.memberCount = e.count, s.lastEvaluatedAt = e.at
// The change feed's next position, taken last: its lock is held from here to the commit, so positions
// commit in the order they are given (see realtime/feed_read).
MERGE (feed:ChangeFeed {name: 'audience'})
SET feed.position = coalesce(feed.position, 0) + 1, e.position = feed.position
RETURN e.id AS id, e.position AS position, e.at AS at, [ac IN entering | ac.id] AS entered,
       [ac IN leaving | ac.id] AS left
