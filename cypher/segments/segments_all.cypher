// name: segments/segments_all
// Every saved segment, by name.
// mode: read
MATCH (s:Segment)
RETURN s {.*} AS segment
ORDER BY s.name
