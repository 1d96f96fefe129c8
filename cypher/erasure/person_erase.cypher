// name: erasure/person_erase
// Erase one person (right to erasure): their web visits, every relationship and the node; count what went.
// mode: write
MATCH (p:Person {email: $email})
CALL (p) {
  MATCH (p)-[r]-()
  WITH type(r) AS type, count(r) AS n ORDER BY type
  RETURN collect({type: type, count: n}) AS relationships
}
// The segments they were in count one member less (as their next evaluation would say).
CALL (p) {
  MATCH (p)-[:IN_SEGMENT]->(s:Segment)
  SET s.memberCount = s.memberCount - 1
}
CALL (p) {
  MATCH (p)-[:VISITED]->(v:WebVisit)
  DETACH DELETE v
  RETURN count(*) AS visits
}
DETACH DELETE p
RETURN relationships, visits
