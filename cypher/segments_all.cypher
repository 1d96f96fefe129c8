// name: segments_all
// Every saved segment, by name.
MATCH (s:Segment)
RETURN s {.*} AS segment
ORDER BY s.name
