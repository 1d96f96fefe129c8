// name: erasure/person_ids_and_destinations
// Before an erasure: the ids sources know the person by (suppressed with them) and the destinations that received them.
// mode: read
MATCH (p:Person {email: $email})
RETURN [(p)-[k:KNOWN_IN]->(s:Source) | {source: s.name, sourceKey: k.sourceKey}] AS ids,
       COLLECT { MATCH (p)-[:SENT_TO]->(d:Destination) RETURN DISTINCT d.name AS name ORDER BY name } AS destinations
