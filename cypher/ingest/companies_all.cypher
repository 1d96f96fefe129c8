// name: ingest/companies_all
// The id of every company, for `accountgraph verify` to recompute their figures.
// mode: read
MATCH (c:Company)
RETURN c.id AS id
ORDER BY id
