// name: realtime/feed_read
// The change feed after a position: evaluations that changed a membership, oldest first, with who entered and left; the head, and the last position retention removed.
// mode: read
// Every evaluation takes the next position of the ChangeFeed node as its last write, holding the
// node's lock until it commits: a position is visible only once every smaller one is, so a reader
// that goes on from the last position it read misses none. Evaluations without a change are skipped.
OPTIONAL MATCH (feed:ChangeFeed {name: 'audience'})
WITH coalesce(feed.position, 0) AS head, coalesce(feed.removedThrough, 0) AS removedThrough
CALL () {
  MATCH (e:SegmentEvaluation)
  WHERE e.position > $after AND (e.entered > 0 OR e.left > 0)
  WITH e ORDER BY e.position LIMIT $limit
  MATCH (e)-[:OF]->(s:Segment)
  // Who entered and left: people by email, or, in an account audience, companies by id.
  RETURN collect(e {.position, .at, segmentId: s.id, segmentName: s.name, subject: s.subject,
                    entered: COLLECT { MATCH (m)-[:ENTERED]->(e) RETURN coalesce(m.email, m.id) AS key ORDER BY key },
                    left: COLLECT { MATCH (m)-[:LEFT]->(e) RETURN coalesce(m.email, m.id) AS key ORDER BY key }})
         AS evaluations
}
RETURN head, removedThrough, evaluations
