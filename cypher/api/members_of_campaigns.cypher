// name: api/members_of_campaigns
// Pages of campaigns' members in email order after a cursor, with their member status and how many members there are.
// mode: read
UNWIND $requests AS request
MATCH (c:Campaign {source: request.source, sourceKey: request.sourceKey})
WITH request, c, COLLECT { MATCH (c)<-[m:MEMBER_OF]-(p:Person)
                           WHERE request.after IS NULL OR p.email > request.after
                           WITH m, p ORDER BY p.email
                           RETURN {m: m, p: p} }[..request.first] AS page
RETURN request.index AS index, COUNT { (c)<-[:MEMBER_OF]-(:Person) } AS totalCount,
       [x IN page | {status: x.m.status, person: {email: x.p.email, firstName: x.p.firstName,
                                                  lastName: x.p.lastName, title: x.p.title}}] AS members
