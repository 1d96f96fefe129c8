// name: ingest/parents_delete
// Remove MDM hierarchy links by link id; returns the accounts whose families to mark.
// mode: write
UNWIND $rows AS row
MATCH (child:Account)-[link:SUBSIDIARY_OF {mdmId: row.mdmId}]->(parent:Account)
DELETE link
WITH child, parent
UNWIND [child {.source, .sourceKey}, parent {.source, .sourceKey}] AS key
RETURN key AS family
