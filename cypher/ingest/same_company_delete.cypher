// name: ingest/same_company_delete
// Remove MDM links by link id; returns the accounts whose company must be regrouped.
// mode: write
UNWIND $rows AS row
MATCH (a:Account)-[link:SAME_COMPANY {mdmId: row.mdmId}]->(b:Account)
DELETE link
RETURN [a {.source, .sourceKey}, b {.source, .sourceKey}] AS regroup
