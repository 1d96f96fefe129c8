// name: segments/audience_member_page
// A page of a saved account audience's companies (as of its last evaluation, kept current live), in id order after a cursor.
// mode: read
MATCH (:Segment {id: $id})<-[:IN_SEGMENT]-(c:Company)
WHERE $after IS NULL OR c.id > $after
WITH c
ORDER BY c.id
LIMIT $first
RETURN collect(c.id) AS companyIds
