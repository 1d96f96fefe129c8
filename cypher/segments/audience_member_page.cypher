// name: segments/audience_member_page
// A page of a saved account audience's companies (as of its last evaluation, kept current live), in id order after a cursor; $search (or null): only those whose id or an account's name contains it (case does not matter).
// mode: read
MATCH (:Segment {id: $id})<-[:IN_SEGMENT]-(c:Company)
WHERE ($after IS NULL OR c.id > $after)
  AND ($search IS NULL OR toLower(c.id) CONTAINS toLower($search)
       OR EXISTS { MATCH (c)<-[:PART_OF]-(a:Account) WHERE toLower(a.name) CONTAINS toLower($search) })
WITH c
ORDER BY c.id
LIMIT $first
RETURN collect(c.id) AS companyIds
