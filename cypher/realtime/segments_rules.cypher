// name: realtime/segments_rules
// Every saved segment's id and rule, for incremental evaluation.
// mode: read
MATCH (s:Segment)
RETURN s.id AS id, s.name AS name, s.rule AS rule
ORDER BY s.name
