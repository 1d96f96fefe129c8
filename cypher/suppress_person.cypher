// name: suppress_person
// Record a suppression: the hash of an erased email and of each source id it had, which imports then skip.
MERGE (s:Suppression {hash: $hash})
  ON CREATE SET s.at = datetime.realtime()
WITH s
CALL (s) {
  UNWIND $idHashes AS idHash
  MERGE (i:SuppressedId {hash: idHash})
  MERGE (i)-[:OF]->(s)
}
RETURN s.at AS at
