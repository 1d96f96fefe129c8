// name: realtime/people_of_companies
// The people of each of the given companies (over all its accounts), by email: whom an account audience's change concerns at a person destination.
// mode: read
UNWIND $companyIds AS companyId
MATCH (:Company {id: companyId})<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(p:Person)
RETURN companyId, collect(DISTINCT p.email) AS emails
