// name: activation/activation_companies
// The companies of a segment's members (an account audience's: its own), each with the name, website, industry and country of its first account that has one (by source and id), by name.
// mode: read
MATCH (s:Segment {id: $segmentId})
CALL (s) {
  MATCH (s)<-[:IN_SEGMENT]-(:Person)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->(c:Company)
  RETURN c
  UNION
  MATCH (s)<-[:IN_SEGMENT]-(c:Company)
  RETURN c
}
WITH DISTINCT c
CALL (c) {
  MATCH (c)<-[:PART_OF]-(a:Account)
  WITH a ORDER BY a.source, a.sourceKey
  RETURN collect(a) AS accounts
}
WITH c, [a IN accounts WHERE a.name IS NOT NULL | a.name][0] AS name, accounts
RETURN c.id AS id, name,
       [a IN accounts WHERE a.website IS NOT NULL | a.website][0] AS website,
       [a IN accounts WHERE a.industry IS NOT NULL | a.industry][0] AS industry,
       [a IN accounts WHERE a.country IS NOT NULL | a.country][0] AS country
ORDER BY name, id
