// name: outbox/delivery_next
// The delivery to send next: the oldest unfinished one of its segment and destination, due and not claimed; locked.
// mode: write
// Deliveries of one segment to one destination go one at a time, in the order of their changes.
// Setting claimLock takes the record's write lock for the rest of the transaction, so the claim
// that follows (outbox/delivery_claim) reads it as committed by anyone before.
MATCH (o:Delivery {status: 'PENDING'})
WITH o.segmentId AS segmentId, o.destination AS destination, o
ORDER BY o.position, o.createdAt
WITH segmentId, destination, head(collect(o)) AS first
WHERE first.nextAttemptAt <= datetime.realtime()
  AND (first.claimUntil IS NULL OR first.claimUntil < datetime.realtime())
WITH first ORDER BY first.nextAttemptAt LIMIT 1
SET first.claimLock = $holder
RETURN first.id AS id
