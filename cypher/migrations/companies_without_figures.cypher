// name: migrations/companies_without_figures
// Companies written before they held their opportunity figures (ingest/companies_rollup gives them theirs).
// mode: read
MATCH (c:Company)
WHERE c.anyCount IS NULL
RETURN c.id AS id
