// name: erasure/person_deliveries_scrub
// Take an erased person out of the webhook deliveries not yet delivered; their batches are worked out again before the next try.
// mode: write
// Delivered records hold no people (outbox/delivery_done drops them).
MATCH (o:Delivery)
WHERE o.status <> 'DELIVERED' AND $email IN o.emails
SET o.emails = [e IN o.emails WHERE e <> $email], o.bodies = null, o.batchIds = null, o.delivered = 0,
    o.enteredEmails = null, o.leftEmails = null
RETURN count(o) AS deliveries
