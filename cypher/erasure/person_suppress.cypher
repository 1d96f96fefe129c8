// name: erasure/person_suppress
// Record a suppression: the hash of an erased email and of each source id it had, which imports then skip.
// mode: write
MERGE (s:Suppression {hash: $hash})
  ON CREATE SET s.at = datetime.realtime()
WITH s
CALL (s) {
  UNWIND $idHashes AS idHash
  MERGE (i:SuppressedId {hash: idHash})
  MERGE (i)-[:OF]->(s)
}
RETURN s.at AS at
