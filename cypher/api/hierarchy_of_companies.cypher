// name: api/hierarchy_of_companies
// Each company's place in its corporate family: its parents, its children and its ultimate parents (ids, in order).
// mode: read
UNWIND $ids AS id
MATCH (c:Company {id: id})
RETURN id,
       COLLECT { MATCH (c)-[:CHILD_OF]->(x:Company) RETURN DISTINCT x.id AS xid ORDER BY xid } AS parents,
       COLLECT { MATCH (c)<-[:CHILD_OF]-(x:Company) RETURN DISTINCT x.id AS xid ORDER BY xid } AS children,
       COLLECT { MATCH (c)-[:CHILD_OF*0..]->(x:Company) WHERE NOT (x)-[:CHILD_OF]->(:Company)
                 RETURN DISTINCT x.id AS xid ORDER BY xid } AS ultimateParents
