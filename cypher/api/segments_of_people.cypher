// name: api/segments_of_people
// The saved segments each person is in now, with since when, and their enter/leave history.
// mode: read
UNWIND $emails AS email
MATCH (p:Person {email: email})
RETURN email,
       COLLECT { MATCH (p)-[m:IN_SEGMENT]->(s:Segment) RETURN {id: s.id, name: s.name, since: m.since} ORDER BY s.name } AS current,
       COLLECT { MATCH (p)-[c:ENTERED|LEFT]->(e:SegmentEvaluation)-[:OF]->(s:Segment)
                 RETURN {id: s.id, name: s.name, change: type(c), at: c.at} ORDER BY c.at DESC } AS history
