// name: ingest_same_company
// Link two accounts that MDM says are the same company; the MDM link id keeps re-imports idempotent.
UNWIND $rows AS row
MATCH (a:Account {source: row.sourceA, sourceKey: row.keyA})
MATCH (b:Account {source: row.sourceB, sourceKey: row.keyB})
MERGE (a)-[link:SAME_COMPANY {mdmId: row.mdmId}]->(b)
SET link.source = 'MDM'
