// name: stewardship/link_reject
// Record a steward's rejection of a suggestion: NOT_SAME_COMPANY between each of its pairs of accounts, so none is suggested again.
// mode: write
UNWIND $pairs AS pair
MATCH (a:Account {source: pair.a.source, sourceKey: pair.a.sourceKey})
MATCH (b:Account {source: pair.b.source, sourceKey: pair.b.sourceKey})
MERGE (a)-[r:NOT_SAME_COMPANY]->(b)
  ON CREATE SET r.at = $at, r.by = $by, r.reason = $reason
RETURN count(r) AS rejected
