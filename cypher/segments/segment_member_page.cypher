// name: segments/segment_member_page
// A page of a saved segment's members (as of its last evaluation, kept current live), in email order after a cursor; $search (or null): only those whose email contains it, or of the company with that id.
// mode: read
MATCH (:Segment {id: $id})<-[:IN_SEGMENT]-(p:Person)
WHERE ($after IS NULL OR p.email > $after)
  AND ($search IS NULL OR p.email CONTAINS toLower($search)
       OR EXISTS { (p)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->(:Company {id: $search}) })
WITH p
ORDER BY p.email
LIMIT $first
// One record with the page: the driver reads one message instead of one per person.
// The ids each source knows them by are loaded only when asked for (Person.knownAs).
RETURN collect(p {.email, .firstName, .lastName, .title}) AS people
