// name: ingest/suppressions_exist
// Whether anyone was erased (only then do imports look their people up among the suppressions).
// mode: read
MATCH (s:Suppression)
RETURN s.hash AS hash
LIMIT 1
