// name: outbox/delivery_claim
// Claim a locked delivery for $milliseconds if it is still unclaimed and pending; returns it with its destination's address.
// mode: write
MATCH (o:Delivery {id: $id})
REMOVE o.claimLock
WITH o
WHERE o.status = 'PENDING' AND (o.claimUntil IS NULL OR o.claimUntil < datetime.realtime())
SET o.claimedBy = $holder, o.claimUntil = datetime.realtime() + duration({milliseconds: $milliseconds})
WITH o
OPTIONAL MATCH (d:Destination {name: o.destination})
RETURN o {.id, .segmentId, .destination, .bodies, .batchIds, .delivered, .attempts} AS delivery,
       d {.url, .secret, .mode} AS destination
