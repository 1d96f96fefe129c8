// name: outbox/deliveries_list
// Webhook deliveries, newest first: one ($id), or of one status, destination and segment, or all (each may be null).
// mode: read
MATCH (o:Delivery)
WHERE ($id IS NULL OR o.id = $id) AND ($status IS NULL OR o.status = $status) AND ($destination IS NULL OR o.destination = $destination)
  AND ($segmentId IS NULL OR o.segmentId = $segmentId)
WITH o ORDER BY o.createdAt DESC, o.id LIMIT $limit
OPTIONAL MATCH (s:Segment {id: o.segmentId})
RETURN o {.id, .segmentId, .destination, .status, .attempts, .batchIds, .delivered, .entered, .left, .lastError,
          .createdAt, .nextAttemptAt, .lastAttemptAt, .deliveredAt, .redriven, people: size(o.emails),
          segment: s.name} AS delivery
