// name: outbox/delivery_done
// Mark a claimed delivery delivered and drop the people it held; returns what the activation record needs.
// mode: write
// A re-driven delivery reached the receiver after later ones did: a delivery of the same people
// follows it, so the receiver ends with their present state.
MATCH (o:Delivery {id: $id})
WHERE o.claimedBy = $holder AND o.bodies IS NOT NULL
WITH o, o.emails AS people, o {.segmentId, .destination, .batchIds, .sent, .withoutConsent, .unknownToDestination,
                               .enteredEmails, .leftEmails} AS done, size(o.bodies) AS batches
SET o.status = 'DELIVERED', o.deliveredAt = datetime.realtime(), o.attempts = o.attempts + 1, o.lastError = null,
    o.lastAttemptAt = datetime.realtime(), o.delivered = batches, o.bodies = null, o.emails = [],
    o.enteredEmails = null, o.leftEmails = null, o.claimedBy = null, o.claimUntil = null
WITH o, people, done
CALL (o, people) {
  WITH o, people WHERE o.redriven AND size(people) > 0
  OPTIONAL MATCH (feed:ChangeFeed {name: 'audience'})
  CREATE (:Delivery {id: randomUUID(), segmentId: o.segmentId, destination: o.destination, status: 'PENDING',
                     position: coalesce(feed.position, o.position), emails: people, attempts: 0, delivered: 0,
                     createdAt: datetime.realtime(), nextAttemptAt: datetime.realtime()})
}
RETURN done
