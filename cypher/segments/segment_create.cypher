// name: segments/segment_create
// Save a new segment: a named rule (as JSON) on people or companies ($subject), with the ids of the segments it builds on.
// mode: write
CREATE (s:Segment {id: randomUUID(), name: $name, description: $description, rule: $rule, subject: $subject, uses: $uses,
                   createdAt: datetime.realtime(), updatedAt: datetime.realtime()})
RETURN s {.*} AS segment
