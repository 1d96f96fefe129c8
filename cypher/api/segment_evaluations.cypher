// name: api/segment_evaluations
// The latest evaluations (snapshots) of each segment, newest first, with who entered and who left.
// mode: read
UNWIND $ids AS id
MATCH (:Segment {id: id})<-[:OF]-(e:SegmentEvaluation)
WITH id, e ORDER BY e.at DESC
WITH id, collect(e)[..$first] AS evaluations
UNWIND evaluations AS e
RETURN id, e {.id, .at, .count, .entered, .left,
              enteredPeople: COLLECT { MATCH (p:Person)-[:ENTERED]->(e) RETURN p.email ORDER BY p.email },
              leftPeople: COLLECT { MATCH (p:Person)-[:LEFT]->(e) RETURN p.email ORDER BY p.email }} AS evaluation
ORDER BY e.at DESC
