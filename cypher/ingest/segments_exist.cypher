// name: ingest/segments_exist
// Whether any segment is saved (only then do writes mark people for re-evaluation).
// mode: read
MATCH (s:Segment)
RETURN s.id AS id
LIMIT 1
