// name: erasure/segments_naming_email
// Saved segments whose rule holds this email as a value (an erasure reports them; it does not rewrite rules).
// mode: read
MATCH (s:Segment)
WHERE toLower(s.rule) CONTAINS $email
RETURN s.name AS name
ORDER BY name
