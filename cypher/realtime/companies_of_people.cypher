// name: realtime/companies_of_people
// The companies of the given people, for account audiences to re-evaluate; with $colleagues, every person of those companies too (for rules that read a person's colleagues).
// mode: read
UNWIND $emails AS email
MATCH (:Person {email: email})-[:ASSOCIATED_WITH]->(:Account)-[:PART_OF]->(c:Company)
WITH collect(DISTINCT c) AS companies
RETURN [c IN companies | c.id] AS companyIds,
       CASE WHEN $colleagues THEN COLLECT {
         UNWIND companies AS c
         MATCH (c)<-[:PART_OF]-(:Account)<-[:ASSOCIATED_WITH]-(q:Person)
         RETURN DISTINCT q.email
       } ELSE [] END AS colleagues
