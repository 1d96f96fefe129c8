// name: activation/activation_audience
// A segment's members (all, or those of $emails) for one destination, split by consent, with what changed since the segment's last send there; an account audience's members are the people of its companies.
// mode: read
MATCH (s:Segment {id: $segmentId}), (d:Destination {name: $destination})
CALL (s, d) {
  CALL (s) {
    MATCH (s)<-[:IN_SEGMENT]-(p:Person)
    RETURN p
    UNION
    MATCH (s)<-[:IN_SEGMENT]-(:Company)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person)
    RETURN p
  }
  WITH d, p
  WHERE $emails IS NULL OR p.email IN $emails
  OPTIONAL MATCH (p)-[k:KNOWN_IN]->(:Source {name: d.instance})
  WITH p, k,
       CASE d.kind
         WHEN 'MARKETO' THEN CASE WHEN k IS NULL THEN 'unknown' WHEN k.unsubscribed THEN 'no-consent' ELSE 'send' END
         WHEN 'LINKEDIN' THEN CASE WHEN EXISTS { (p)-[x:KNOWN_IN]->() WHERE x.advertisingOptOut } THEN 'no-consent' ELSE 'send' END
         ELSE CASE WHEN EXISTS { (p)-[x:KNOWN_IN]->() WHERE x.unsubscribed } THEN 'no-consent' ELSE 'send' END
       END AS verdict
  WITH p, k, verdict,
       CASE WHEN verdict = 'send' THEN {email: p.email, leadId: k.sourceKey,
            ids: COLLECT { MATCH (p)-[x:KNOWN_IN]->(src:Source) RETURN {source: src.name, id: x.sourceKey} ORDER BY src.name }}
       END AS member
  ORDER BY p.email
  RETURN collect(member) AS send,
         count(CASE WHEN verdict = 'no-consent' THEN 1 END) AS withoutConsent,
         count(CASE WHEN verdict = 'unknown' THEN 1 END) AS unknownToDestination
}
WITH s, d, send, withoutConsent, unknownToDestination, [m IN send | m.email] AS emails
RETURN s.name AS segmentName, d.kind AS kind, send, withoutConsent, unknownToDestination,
       [m IN send WHERE NOT EXISTS { (:Person {email: m.email})-[:SENT_TO {segmentId: s.id}]->(d) }] AS entered,
       COLLECT { MATCH (p:Person)-[:SENT_TO {segmentId: s.id}]->(d)
               WHERE ($emails IS NULL OR p.email IN $emails) AND NOT p.email IN emails
               RETURN p.email ORDER BY p.email } AS left
