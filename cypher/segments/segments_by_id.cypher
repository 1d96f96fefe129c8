// name: segments/segments_by_id
// Saved segments by id.
// mode: read
UNWIND $ids AS id
MATCH (s:Segment {id: id})
RETURN id, s {.*} AS segment
