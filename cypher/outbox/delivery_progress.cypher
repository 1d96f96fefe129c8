// name: outbox/delivery_progress
// Record that the first $delivered batches of a claimed delivery were taken by the receiver; renew the claim.
// mode: write
MATCH (o:Delivery {id: $id})
WHERE o.claimedBy = $holder
SET o.delivered = $delivered, o.claimUntil = datetime.realtime() + duration({milliseconds: $milliseconds})
RETURN o.delivered AS delivered
