// name: outbox/deliveries_enqueue
// Queue a delivery to each DELTA webhook of every segment with changes, in the transaction that evaluated them.
// mode: write
// One record per segment, destination and round, naming the people whose membership changed
// ($changes: segmentId, emails, position); what to send is worked out when a sender first takes it.
UNWIND $changes AS change
MATCH (s:Segment {id: change.segmentId})
MATCH (d:Destination {kind: 'WEBHOOK', mode: 'DELTA'})
WHERE EXISTS { (s)<-[:OF]-(:Activation)-[:TO]->(d) }
CREATE (o:Delivery {id: randomUUID(), segmentId: s.id, destination: d.name, status: 'PENDING',
                    position: change.position, emails: change.emails, attempts: 0, delivered: 0,
                    createdAt: datetime.realtime(), nextAttemptAt: datetime.realtime()})
RETURN count(o) AS queued
