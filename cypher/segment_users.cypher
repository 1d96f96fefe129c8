// name: segment_users
// The saved segments whose rule builds on segment $id.
MATCH (s:Segment)
WHERE $id IN s.uses
RETURN s.name AS name
