// name: api/segment_evaluations
// The latest evaluations (snapshots) of each segment, newest first, with who (or which companies) entered and left.
// mode: read
UNWIND $ids AS id
MATCH (:Segment {id: id})<-[:OF]-(e:SegmentEvaluation)
WITH id, e ORDER BY e.at DESC
WITH id, collect(e)[..$first] AS evaluations
UNWIND evaluations AS e
RETURN id, e {.id, .at, .count, .entered, .left,
              enteredPeople: COLLECT { MATCH (p:Person)-[:ENTERED]->(e) RETURN p.email ORDER BY p.email },
              leftPeople: COLLECT { MATCH (p:Person)-[:LEFT]->(e) RETURN p.email ORDER BY p.email },
              enteredCompanies: COLLECT { MATCH (c:Company)-[:ENTERED]->(e) RETURN c.id ORDER BY c.id },
              leftCompanies: COLLECT { MATCH (c:Company)-[:LEFT]->(e) RETURN c.id ORDER BY c.id }} AS evaluation
ORDER BY e.at DESC
