// name: segments/segments_by_name
// Saved segments by name.
// mode: read
UNWIND $names AS name
MATCH (s:Segment {name: name})
RETURN s.id AS id
