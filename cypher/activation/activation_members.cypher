// name: activation/activation_members
// One activation's destination and file names, with the people it sent (email, lead id) by email, or its company list: what its files are made from.
// mode: read
MATCH (a:Activation {id: $id})-[:TO]->(d:Destination)
RETURN d.kind AS kind, d.instance AS instance, a.files AS files, a.companyList AS companyList,
       COLLECT { MATCH (p:Person)-[sent:SENT_IN]->(a)
                 RETURN {email: p.email, leadId: sent.leadId} AS member ORDER BY p.email } AS members
