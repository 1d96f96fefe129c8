// name: outbox/delivery_built
// Keep what a claimed delivery sends (its batches, fixed from now on: every retry sends the same ids), or drop it when there is nothing to send.
// mode: write
MATCH (o:Delivery {id: $id})
WHERE o.claimedBy = $holder
SET o.bodies = $bodies, o.batchIds = $batches, o.delivered = 0, o.enteredEmails = $entered, o.leftEmails = $left,
    o.entered = size($entered), o.left = size($left), o.sent = $sent, o.withoutConsent = $withoutConsent,
    o.unknownToDestination = $unknownToDestination
WITH o
CALL (o) {
  WITH o WHERE size($bodies) = 0
  DELETE o
}
RETURN size($bodies) AS batches
