// name: realtime/retention_apply
// Remove up to $limit each of evaluations, web visits and delivered webhook deliveries older than their retention (in days; 0 keeps them); mark the visitors.
// mode: write
// marks: people
// A removed visit no longer counts in any rule (one without a time window included): its person is
// re-evaluated. The feed remembers the last position removed, so a cursor before it is refused.
CALL () {
  MATCH (e:SegmentEvaluation)
  WHERE $evaluationRetentionDays > 0 AND e.at < datetime.realtime() - duration({days: $evaluationRetentionDays})
  WITH e ORDER BY e.position LIMIT $limit
  WITH collect(e) AS old, max(e.position) AS last
  OPTIONAL MATCH (feed:ChangeFeed {name: 'audience'})
  FOREACH (_ IN CASE WHEN feed IS NOT NULL AND last IS NOT NULL THEN [1] ELSE [] END |
    SET feed.removedThrough = CASE WHEN coalesce(feed.removedThrough, 0) > last THEN feed.removedThrough
                                   ELSE last END)
  FOREACH (e IN old | DETACH DELETE e)
  RETURN size(old) AS evaluations
}
CALL () {
  MATCH (v:WebVisit)
  WHERE $visitRetentionDays > 0 AND v.visitedAt < datetime.realtime() - duration({days: $visitRetentionDays})
  WITH v LIMIT $limit
  OPTIONAL MATCH (p:Person)-[:VISITED]->(v)
  SET p:PendingEvaluation
  DETACH DELETE v
  RETURN count(DISTINCT v) AS visits
}
CALL () {
  MATCH (o:Delivery {status: 'DELIVERED'})
  WHERE $deliveryRetentionDays > 0 AND o.deliveredAt < datetime.realtime() - duration({days: $deliveryRetentionDays})
  WITH o LIMIT $limit
  DELETE o
  RETURN count(o) AS deliveries
}
RETURN evaluations, visits, deliveries
