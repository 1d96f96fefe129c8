// name: segments/segment_member_page
// A page of a saved segment's members (as of its last evaluation, kept current live), in email order after a cursor.
// mode: read
MATCH (:Segment {id: $id})<-[:IN_SEGMENT]-(p:Person)
WHERE $after IS NULL OR p.email > $after
WITH p
ORDER BY p.email
LIMIT $first
// One record with the page: the driver reads one message instead of one per person.
RETURN collect(p {.email, .firstName, .lastName, .title,
                  knownAs: [(p)-[k:KNOWN_IN]->(s:Source) | {source: s.name, sourceKey: k.sourceKey}]}) AS people
