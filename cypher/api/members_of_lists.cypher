// name: api/members_of_lists
// Pages of marketing lists' members in email order after a cursor, and how many members there are.
// mode: read
UNWIND $requests AS request
MATCH (l:MarketingList {source: request.source, sourceKey: request.sourceKey})
WITH request, l, COLLECT { MATCH (l)<-[:ON_LIST]-(p:Person)
                           WHERE request.after IS NULL OR p.email > request.after
                           RETURN p ORDER BY p.email }[..request.first] AS page
RETURN request.index AS index, COUNT { (l)<-[:ON_LIST]-(:Person) } AS totalCount,
       [p IN page | {person: p {.email, .firstName, .lastName, .title}}] AS members
