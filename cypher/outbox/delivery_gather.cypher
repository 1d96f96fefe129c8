// name: outbox/delivery_gather
// Before a claimed delivery is first sent: fold the later unsent records of its segment and destination into it; returns the people.
// mode: write
// A receiver that was slow or down meanwhile gets one delivery of everything that changed, not one per round.
MATCH (o:Delivery {id: $id})
WHERE o.claimedBy = $holder
CALL (o) {
  OPTIONAL MATCH (later:Delivery {segmentId: o.segmentId, destination: o.destination, status: 'PENDING'})
  WHERE later <> o AND later.bodies IS NULL AND later.claimUntil IS NULL
  WITH later ORDER BY later.position LIMIT 1000
  RETURN collect(later) AS merged
}
WITH o, merged,
     reduce(all = o.emails, m IN merged | all + [e IN m.emails WHERE NOT e IN all]) AS emails,
     reduce(last = o.position, m IN merged | CASE WHEN m.position > last THEN m.position ELSE last END) AS position
SET o.emails = emails, o.position = position
FOREACH (m IN merged | DELETE m)
RETURN o.segmentId AS segmentId, o.emails AS emails, size(merged) AS merged
