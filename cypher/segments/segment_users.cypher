// name: segments/segment_users
// The saved segments whose rule builds on segment $id.
// mode: read
MATCH (s:Segment)
WHERE $id IN s.uses
RETURN s.name AS name
