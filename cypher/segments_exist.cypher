// name: segments_exist
// Whether any segment is saved (only then do writes mark people for re-evaluation).
MATCH (s:Segment)
RETURN s.id AS id
LIMIT 1
