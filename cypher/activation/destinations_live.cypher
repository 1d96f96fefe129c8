// name: activation/destinations_live
// The DELTA webhooks a segment has been activated to: they hear of its changes as they happen.
// mode: read
MATCH (:Segment {id: $segmentId})<-[:OF]-(:Activation)-[:TO]->(d:Destination {kind: 'WEBHOOK', mode: 'DELTA'})
RETURN DISTINCT d.name AS name
