// name: activation/activation_companies
// The companies of a segment's members, each with the name, website, industry and country of its first account that has one (by source and id), by name.
// mode: read
MATCH (:Segment {id: $segmentId})<-[:IN_SEGMENT]-(:Person)-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->(c:Company)
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
