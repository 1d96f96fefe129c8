// name: activation/activation_record
// Record a finished activation and move the segment's sent set at the destination to what was just sent.
// mode: write
// The people a file destination was sent ($members: email, leadId) are kept with the activation
// (SENT_IN), so its files are produced from the graph when downloaded, and an erased person leaves
// every stored activation with their node. A company list holds no people: it is kept as written
// ($companyList, the CSV's text).
MATCH (s:Segment {id: $segmentId}), (d:Destination {name: $destination})
CREATE (a:Activation {id: $id, at: datetime.realtime(), sent: $sent, withoutConsent: $withoutConsent,
                      unknownToDestination: $unknownToDestination, entered: size($entered), left: size($left),
                      files: $files, batches: $batches, companyList: $companyList})
CREATE (a)-[:OF]->(s)
CREATE (a)-[:TO]->(d)
WITH d, a
CALL (a) {
  UNWIND $members AS member
  MATCH (p:Person {email: member.email})
  CREATE (p)-[:SENT_IN {leadId: member.leadId}]->(a)
}
CALL (d) {
  UNWIND $entered AS email
  MATCH (p:Person {email: email})
  MERGE (p)-[:SENT_TO {segmentId: $segmentId}]->(d)
}
CALL (d) {
  UNWIND $left AS email
  MATCH (:Person {email: email})-[sent:SENT_TO {segmentId: $segmentId}]->(d)
  DELETE sent
}
RETURN a {.*} AS activation
