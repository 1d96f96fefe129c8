// name: api/buying_groups_of_companies
// The buying group of each company ($ids): who holds a role ($roles, lower-cased) through a deal's contact roles or an account, and how engaged each is in the last $days days.
// mode: read
UNWIND $ids AS id
MATCH (c:Company {id: id})
CALL (c) {
  MATCH (c)<-[:PART_OF]-(:Account)-[:HAS_OPPORTUNITY]->(o:Opportunity)<-[r:CONTACT_FOR]-(q:Person)
  WHERE toLower(trim(r.role)) IN $roles
  RETURN q, r.role AS role, 'OPPORTUNITY' AS via, o.source AS source, o.sourceKey AS key, o.name AS name
  UNION
  MATCH (c)<-[:PART_OF]-(a:Account)<-[r:ASSOCIATED_WITH]-(q:Person)
  WHERE toLower(trim(r.role)) IN $roles
  RETURN q, r.role AS role, 'ACCOUNT' AS via, a.source AS source, a.sourceKey AS key, a.name AS name
}
WITH c, q, role, via, source, key, name,
     COUNT { (q)-[:VISITED]->(v:WebVisit)
             WHERE v.visitedAt <= datetime() AND v.visitedAt >= datetime() - duration({days: $days}) } AS visits,
     COUNT { (q)-[m:MEMBER_OF]->(:Campaign)
             WHERE toLower(m.status) CONTAINS 'respond' AND m.firstSeenAt >= datetime() - duration({days: $days}) }
       AS campaignResponses
ORDER BY q.email, via, source, key
RETURN c.id AS id,
       collect({email: q.email, firstName: q.firstName, lastName: q.lastName, title: q.title, role: role, via: via,
                source: source, key: key, name: name, visits: visits, campaignResponses: campaignResponses})
         AS members
