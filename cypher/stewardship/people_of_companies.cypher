// name: stewardship/people_of_companies
// The emails of the people of the given companies (the people a suggested link could move in or out of segments).
// mode: read
UNWIND $ids AS id
MATCH (:Company {id: id})<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person)
RETURN DISTINCT p.email AS email
ORDER BY email
