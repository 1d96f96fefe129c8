// name: realtime/segments_rules
// Every saved segment's id, name, rule and subject, for incremental evaluation and warming.
// mode: read
MATCH (s:Segment)
RETURN s.id AS id, s.name AS name, s.rule AS rule, s.subject AS subject
ORDER BY s.name
