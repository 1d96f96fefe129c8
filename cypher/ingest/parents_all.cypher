// name: ingest/parents_all
// Every hierarchy link (SUBSIDIARY_OF) with its two accounts' companies: what an import's cycle check adds to.
// mode: read
MATCH (child:Account)-[link:SUBSIDIARY_OF]->(parent:Account)
MATCH (child)-[:PART_OF]->(childCompany:Company)
MATCH (parent)-[:PART_OF]->(parentCompany:Company)
RETURN child {.source, .sourceKey} AS child, link.source AS source, link.mdmId AS mdmId,
       childCompany.id AS childCompany, parentCompany.id AS parentCompany
