// name: segments/segment_delete
// Delete a segment with its evaluations, activation records and memberships; returns whether it existed.
// mode: write
MATCH (s:Segment {id: $id})
OPTIONAL MATCH (s)<-[:OF]-(record:SegmentEvaluation|Activation)
DETACH DELETE record
WITH DISTINCT s
OPTIONAL MATCH ()-[sent:SENT_TO {segmentId: s.id}]->()
DELETE sent
WITH DISTINCT s
DETACH DELETE s
RETURN count(*) AS deleted
