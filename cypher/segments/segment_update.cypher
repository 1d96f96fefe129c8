// name: segments/segment_update
// Change a segment's name, description or rule (null leaves a value as it is).
// mode: write
MATCH (s:Segment {id: $id})
SET s.name = coalesce($name, s.name), s.description = coalesce($description, s.description),
    s.rule = coalesce($rule, s.rule), s.uses = coalesce($uses, s.uses), s.updatedAt = datetime.realtime()
RETURN s {.*} AS segment
