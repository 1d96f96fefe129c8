// name: ingest/suppressions_by_hash
// Which of these email hashes and source-id hashes belong to erased people.
// mode: read
CALL () {
  UNWIND $emails AS hash
  MATCH (s:Suppression {hash: hash})
  RETURN collect(hash) AS emails
}
CALL () {
  UNWIND $ids AS hash
  MATCH (i:SuppressedId {hash: hash})
  RETURN collect(hash) AS ids
}
RETURN emails, ids
