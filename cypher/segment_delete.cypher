// name: segment_delete
// Delete a segment with its evaluation history and memberships; returns whether it existed.
MATCH (s:Segment {id: $id})
OPTIONAL MATCH (s)<-[:OF]-(e:SegmentEvaluation)
DETACH DELETE e
WITH DISTINCT s
DETACH DELETE s
RETURN count(*) AS deleted
